/// The declarative table of `[pgbouncer]` settings: one row per INI name, with its `Settings` field, type,
/// default, reload rule and doc. The INI parser, validation, `SHOW CONFIG`, `SET`, reload and
/// docs/configuration.md all read it; a setting exists when it has a row here.
public enum SettingsTable {
    /// Every setting, those with an effect first, then PgBouncer's accepted-with-no-effect-yet ones; each group
    /// alphabetical. Defaults are read from `Settings()`, except for the passthrough rows (PgBouncer's defaults).
    public static let all: [SettingDefinition] = (active + passthrough).map { $0.withDefault(from: Settings()) }

    /// The row for an INI name, any letter case.
    public static func definition(_ name: String) -> SettingDefinition? {
        byName[name.lowercased()]
    }

    /// The settings whose values differ between `old` and `new`, in table order (for reload and `SHOW CONFIG`).
    public static func changes(from old: Settings, to new: Settings) -> [SettingDefinition] {
        all.filter { $0.currentText(old) != $0.currentText(new) }
    }

    /// Rows by lowercase name.
    private static let byName: [String: SettingDefinition] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// The settings Spillway acts on.
    static let active: [SettingDefinition] = [
        .list("admin_users", \.adminUsers, "Users allowed to run every admin console command."),
        .boolean(
            "application_name_add_host", \.applicationNameAddHost,
            "Append the client's address and port to the `application_name` sent to the server."),
        .string(
            "auth_file", \.authFile, emptyIsUnset: true,
            "The userlist.txt holding user names and passwords; a relative path not found from the working "
                + "directory is read from the config file's folder."),
        .custom(
            "auth_type", \.authType, kind: .choice(supportedAuthTypes.map(\.rawValue)),
            "How clients authenticate.", parse: parseAuthType, format: { $0.rawValue }),
        .integer(
            "break_glass_pool_size", \.breakGlassPoolSize, 0...100,
            "Servers reserved for each break-glass user and database."),
        .list(
            "break_glass_users", \.breakGlassUsers,
            "Users who get `break_glass_pool_size` servers of their own per database, which applications can "
                + "never take: an operator can run queries while every pool is exhausted."),
        .integer(
            "budget_headroom", \.budgetHeadroom, 0...10_000,
            "With `server_connection_budget = auto`: server slots left to others besides the reserved ones."),
        .seconds("cancel_wait_timeout", \.cancelWaitTimeout, "How long a cancel request may wait for a server."),
        .seconds("client_idle_timeout", \.clientIdleTimeout, "Disconnect clients idle longer than this; 0 is off."),
        .seconds("client_login_timeout", \.clientLoginTimeout, "Disconnect clients that have not logged in by then."),
        .integer("default_pool_size", \.defaultPoolSize, 1...10_000, "Server connections per database/user pair."),
        .seconds(
            "idle_transaction_reclaim_after", \.idleTransactionReclaimAfter,
            "While other clients wait, a client idle inside a transaction at least this long may have its server "
                + "reclaimed (25P03, ROLLBACK); a shorter pause is never punished. Below ~1 s healthy transactions "
                + "that pause between statements get killed under contention; the drill keeps the API up at 2 s."),
        .seconds(
            "idle_transaction_timeout", \.idleTransactionTimeout,
            "Disconnect clients idle inside a transaction longer than this (25P03); their server is rolled back "
                + "and reused. 0 is off."),
        .list(
            "ignore_startup_parameters", \.ignoreStartupParameters,
            "Startup parameters accepted from clients but not forwarded (e.g. `extra_float_digits`)."),
        .integer(
            "instances", \.instances, 1...1_000,
            "Spillway processes sharing one PostgreSQL server: the connection budget is divided among them."),
        .seconds(
            "leak_warn_after", \.leakWarnAfter,
            "A client idle inside a transaction this long is logged and listed as a suspected leak; 0 is off."),
        .integer(
            "listen_backlog", \.listenBacklog, 1...65_535, reloadable: false,
            "Backlog of each listening socket (capped by the kernel's somaxconn)."),
        .list(
            "listen_addr", \.listenAddr, reloadable: false,
            "Addresses to listen on; `*` means all, empty means no TCP listener."),
        .integer(
            "listen_port", \.listenPort, 0...65_535, reloadable: false, "TCP port for clients; 0 picks a free one."),
        .string(
            "logfile", \.logfile, emptyIsUnset: true,
            "File the log is appended to, besides standard error; reopened on SIGHUP and RELOAD for logrotate."),
        .boolean("log_connections", \.logConnections, "Log each client login."),
        .boolean("log_disconnections", \.logDisconnections, "Log each client disconnect with its reason."),
        .choice(
            "log_format", \.logFormat, reloadable: false,
            "`text` (one line of `key=value` metadata per event) or `json` (one JSON object per line)."),
        .boolean("log_pooler_errors", \.logPoolerErrors, "Log errors Spillway sends to clients."),
        .boolean("log_stats", \.logStats, "Log each database's traffic every `stats_period`."),
        .integer("max_client_conn", \.maxClientConn, 1...1_000_000, "Client connections accepted in total."),
        .integer(
            "max_db_connections", \.maxDBConnections, 0...100_000,
            "Server connections per database over all users; 0 is unlimited."),
        .integer(
            "max_db_client_connections", \.maxDBClientConnections, 0...1_000_000,
            "Client connections per database; more get 53300. 0 is unlimited."),
        .integerOrAuto(
            "max_idle_transaction_servers", \.maxIdleTransactionServers, 0...10_000,
            "Servers of a pool that may sit idle inside a transaction while other clients wait; past it the "
                + "longest-idle holder is reclaimed (25P03, ROLLBACK). `auto` is half the pool size."),
        .integer(
            "max_packet_size", \.maxPacketSize, 9...2_147_483_647,
            "Largest protocol message accepted from a client, in bytes."),
        .integer(
            "max_user_client_connections", \.maxUserClientConnections, 0...1_000_000,
            "Client connections per user; more get 53300. 0 is unlimited."),
        .integer(
            "max_user_connections", \.maxUserConnections, 0...100_000,
            "Server connections per user over all databases; 0 is unlimited."),
        .string(
            "metrics_listen_addr", \.metricsListenAddr, reloadable: false,
            "Address of the HTTP listener for `/metrics` (Prometheus) and `/healthz`; empty turns it off."),
        .integer(
            "metrics_listen_port", \.metricsListenPort, 0...65_535, reloadable: false,
            "Port of the `/metrics` and `/healthz` listener; 0 picks a free one."),
        .string(
            "pidfile", \.pidfile, emptyIsUnset: true, reloadable: false,
            "File the process id is written to after start and removed at exit; a live process holding it "
                + "stops a second start."),
        .integer("min_pool_size", \.minPoolSize, 0...10_000, "Server connections kept open per pool even when idle."),
        .choice("pool_mode", \.poolMode, "When a server connection returns to the pool."),
        .seconds("query_timeout", \.queryTimeout, "Cancel queries running longer than this; 0 is off."),
        .seconds(
            "query_wait_notify", \.queryWaitNotify,
            "A client waiting this long for a server gets a NOTICE saying so (once per wait); 0 is off."),
        .seconds(
            "query_wait_timeout", \.queryWaitTimeout,
            "How long a client may wait for a server connection before it gets an error; 0 waits forever."),
        .integer(
            "reserve_pool_size", \.reservePoolSize, 0...10_000,
            "Extra server connections a pool may open when clients wait longer than `reserve_pool_timeout`."),
        .seconds("reserve_pool_timeout", \.reservePoolTimeout, "How long a client waits before the reserve is used."),
        .seconds(
            "server_check_delay", \.serverCheckDelay,
            "Idle time after which a server connection is checked with `server_check_query` before reuse."),
        .string("server_check_query", \.serverCheckQuery, "Query that checks an idle server connection is alive."),
        .integerOrAuto(
            "server_connection_budget", \.serverConnectionBudget, 1...100_000,
            "Most server connections to one PostgreSQL host, whatever the pools say. `auto` reads "
                + "max_connections and the reserved slots from the server."),
        .seconds("server_connect_timeout", \.serverConnectTimeout, "How long connecting and logging in may take."),
        .seconds(
            "server_idle_timeout", \.serverIdleTimeout, "Close server connections idle longer than this; 0 is off."),
        .seconds(
            "server_lifetime", \.serverLifetime, "Close server connections older than this when released; 0 is off."),
        .seconds("server_login_retry", \.serverLoginRetry, "Pause after a failed server login before trying again."),
        .string(
            "server_reset_query", \.serverResetQuery,
            "Query run on a server connection before another client gets it in session mode."),
        .boolean(
            "server_reset_query_always", \.serverResetQueryAlways,
            "Run `server_reset_query` in transaction and statement mode too."),
        .seconds(
            "shutdown_timeout", \.shutdownTimeout,
            "On SIGTERM, how long transactions in progress may finish before Spillway closes anyway."),
        .boolean(
            "so_reuseport", \.soReuseport, reloadable: false,
            "Set SO_REUSEPORT so several instances can share the port."),
        .integer(
            "stats_period", \.statsPeriod, 1...86_400,
            "Seconds over which `SHOW STATS_AVERAGES` and the `log_stats` line average."),
        .list("stats_users", \.statsUsers, "Users allowed read-only admin console commands (`SHOW …`)."),
        .boolean("syslog", \.syslog, reloadable: false, "Also send the log to syslog."),
        .choice("syslog_facility", \.syslogFacility, reloadable: false, "Syslog facility."),
        .string("syslog_ident", \.syslogIdent, reloadable: false, "Program name of the syslog lines."),
        .boolean("tcp_keepalive", \.tcpKeepalive, "Enable TCP keepalive on client and server sockets."),
        .integer("tcp_keepcnt", \.tcpKeepcnt, 0...1_000, "TCP keepalive probes before the peer is declared gone."),
        .integer("tcp_keepidle", \.tcpKeepidle, 0...86_400, "Idle seconds before TCP keepalive probes start."),
        .integer("tcp_keepintvl", \.tcpKeepintvl, 0...86_400, "Seconds between TCP keepalive probes."),
        .integer(
            "tcp_socket_buffer", \.tcpSocketBuffer, 0...(64 << 20),
            "SO_SNDBUF and SO_RCVBUF of client and server sockets in bytes; 0 keeps the system's."),
        .integer(
            "tcp_user_timeout", \.tcpUserTimeout, 0...86_400_000,
            "Milliseconds sent data may stay unacknowledged before the connection is dropped (TCP_USER_TIMEOUT)."),
        .integerOrAuto("threads", \.threads, 1...256, reloadable: false, "I/O threads; `auto` is one per CPU core. On a small machine shared with PostgreSQL, fewer threads cost less CPU per transaction (docs/BENCHMARKS.md)."),
        .seconds(
            "transaction_timeout", \.transactionTimeout,
            "A client inside one transaction longer than this is disconnected (25P04) and its server closed; 0 is off."),
        .string(
            "unix_socket_dir", \.unixSocketDir, reloadable: false,
            "Folder of the Unix socket `.s.PGSQL.<port>`; empty disables it."),
        .custom(
            "unix_socket_group", \.unixSocketGroup, kind: .string, reloadable: false,
            "Group the Unix socket belongs to; unset keeps the process's group.",
            parse: { $0.isEmpty ? nil : $0 }, format: { $0 }),
        .custom(
            "unix_socket_mode", \.unixSocketMode, kind: .string, reloadable: false,
            "Permission bits of the Unix socket, in octal.", parse: parseMode, format: { "0" + String($0, radix: 8) }),
        .string(
            "user", \.user, emptyIsUnset: true, reloadable: false,
            "OS user to switch to after binding the listeners and opening the log and pid files. Spillway refuses "
                + "to run as root without it."),
        .integer("verbose", \.verbose, 0...10, "Extra log detail; 0 is normal, higher is chattier."),
        .custom(
            "warn_pool_usage", \.warnPoolUsage, kind: .string,
            "Share of a pool's servers in use (0 to 1) above which a warning names the top applications.",
            parse: parseShare, format: { String($0) }),
    ]

    /// Permission bits in octal (`0777`, `660`).
    @Sendable static func parseMode(_ text: String) throws(InvalidSettingValue) -> Int {
        let trimmed = ConfigValue.trimmed(text)
        guard let value = Int(trimmed, radix: 8), value >= 0, value <= 0o777 else {
            throw InvalidSettingValue("unix_socket_mode: expected octal permission bits like 0777, got '\(text)'")
        }
        return value
    }

    /// A number from 0 to 1.
    @Sendable static func parseShare(_ text: String) throws(InvalidSettingValue) -> Double {
        guard let value = Double(ConfigValue.trimmed(text)), value >= 0, value <= 1 else {
            throw InvalidSettingValue("warn_pool_usage: expected a number from 0 to 1, got '\(text)'")
        }
        return value
    }

    /// The `auth_type` values Spillway implements, in the order error messages list them.
    static let supportedAuthTypes: [AuthType] = AuthType.allCases.filter(\.isSupported)

    /// Known PgBouncer methods Spillway does not implement are named as such; unknown words list the choices.
    @Sendable static func parseAuthType(_ text: String) throws(InvalidSettingValue) -> AuthType {
        let word = ConfigValue.trimmed(text).lowercased()
        guard let type = AuthType(rawValue: word) else {
            let allowed = supportedAuthTypes.map(\.rawValue).joined(separator: ", ")
            throw InvalidSettingValue("auth_type: expected one of \(allowed), got '\(text)'")
        }
        guard type.isSupported else {
            throw InvalidSettingValue(
                "auth_type '\(type.rawValue)' is not supported by spillway; use trust, plain, md5 or scram-sha-256")
        }
        return type
    }
}
