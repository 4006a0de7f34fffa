/// The `[pgbouncer]` (or `[spillway]`) section: global listener, pool, timeout and logging settings.
///
/// Every property is one row of `SettingsTable`, which maps it to its INI name, parses and validates
/// it, and documents it. The initial values below are the defaults; the table renders them for
/// `SHOW CONFIG` and docs/configuration.md. Durations are seconds; 0 disables a timeout.
public struct Settings: Sendable, Equatable {
    /// `listen_addr`: addresses to listen on; `*` means all; empty means no TCP listener.
    public var listenAddr: [String] = ["127.0.0.1"]
    /// `listen_port`: TCP port for clients.
    public var listenPort: Int = 6432
    /// `unix_socket_dir`: folder of the Unix socket `.s.PGSQL.<port>`; empty disables it.
    public var unixSocketDir: String = "/tmp"
    /// `auth_type`: how clients authenticate.
    public var authType: AuthType = .md5
    /// `auth_file`: the userlist.txt with user names and passwords; nil when not set.
    public var authFile: String? = nil
    /// `admin_users`: users allowed to run any admin console command.
    public var adminUsers: [String] = []
    /// `stats_users`: users allowed read-only admin console commands (`SHOW …`).
    public var statsUsers: [String] = []
    /// `pool_mode`: when a server connection returns to the pool.
    public var poolMode: PoolMode = .session
    /// `default_pool_size`: server connections per database/user pair.
    public var defaultPoolSize: Int = 20
    /// `min_pool_size`: server connections kept open per pool even when idle.
    public var minPoolSize: Int = 0
    /// `reserve_pool_size`: extra server connections a pool may open when clients wait too long.
    public var reservePoolSize: Int = 5
    /// `reserve_pool_timeout`: how long a client waits before the reserve pool is used.
    public var reservePoolTimeout: Double = 5
    /// `max_client_conn`: client connections accepted in total.
    public var maxClientConn: Int = 10_000
    /// `max_db_connections`: server connections per database over all users; 0 is unlimited.
    public var maxDBConnections: Int = 0
    /// `max_user_connections`: server connections per user over all databases; 0 is unlimited.
    public var maxUserConnections: Int = 0
    /// `server_reset_query`: run on a server connection before another client gets it (session mode).
    public var serverResetQuery: String = "DISCARD ALL"
    /// `server_reset_query_always`: run the reset query in transaction and statement mode too.
    public var serverResetQueryAlways: Bool = false
    /// `server_check_query`: run on a server connection idle for `server_check_delay` before reuse.
    public var serverCheckQuery: String = "select 1"
    /// `server_check_delay`: idle time after which a server connection is checked before reuse.
    public var serverCheckDelay: Double = 30
    /// `ignore_startup_parameters`: startup parameters accepted from clients and not forwarded.
    public var ignoreStartupParameters: [String] = []
    /// `max_packet_size`: largest protocol message accepted, in bytes.
    public var maxPacketSize: Int = 2_147_483_647
    /// `threads`: I/O threads; nil means one per CPU core.
    public var threads: Int? = nil
    /// `query_wait_timeout`: how long a client may wait for a server connection.
    public var queryWaitTimeout: Double = 30
    /// `server_connect_timeout`: how long connecting and logging in to the server may take.
    public var serverConnectTimeout: Double = 5
    /// `server_login_retry`: pause after a failed server login before trying again.
    public var serverLoginRetry: Double = 15
    /// `server_idle_timeout`: idle server connections older than this are closed.
    public var serverIdleTimeout: Double = 600
    /// `server_lifetime`: server connections older than this are closed when released.
    public var serverLifetime: Double = 3600
    /// `client_login_timeout`: clients that have not logged in within this are disconnected.
    public var clientLoginTimeout: Double = 15
    /// `idle_transaction_timeout`: clients idle inside a transaction longer than this are disconnected.
    public var idleTransactionTimeout: Double = 60
    /// `query_timeout`: queries running longer than this are canceled.
    public var queryTimeout: Double = 0
    /// `client_idle_timeout`: clients idle longer than this are disconnected.
    public var clientIdleTimeout: Double = 0
    /// `cancel_wait_timeout`: how long a cancel request may wait for a server connection.
    public var cancelWaitTimeout: Double = 10
    /// `shutdown_timeout`: on SIGTERM, how long transactions in progress may run before Spillway closes anyway.
    public var shutdownTimeout: Double = 30
    /// `application_name_add_host`: append the client's address and port to `application_name`.
    public var applicationNameAddHost: Bool = false
    /// `log_connections`: log each client login.
    public var logConnections: Bool = true
    /// `log_disconnections`: log each client disconnect with its reason.
    public var logDisconnections: Bool = true
    /// `log_pooler_errors`: log errors Spillway sends to clients.
    public var logPoolerErrors: Bool = true
    /// `log_stats`: log each database's traffic every stats_period.
    public var logStats: Bool = true
    /// `log_format`: text or JSON lines.
    public var logFormat: LogFormat = .text
    /// `stats_period`: seconds over which averages are computed.
    public var statsPeriod: Int = 60
    /// `metrics_listen_addr`: address of the /metrics and /healthz HTTP listener; empty is off.
    public var metricsListenAddr: String = ""
    /// `metrics_listen_port`: port of that listener.
    public var metricsListenPort: Int = 9127
    /// `max_idle_transaction_servers`: servers of a pool that may sit idle in a transaction while clients
    /// wait; nil means half the pool size.
    public var maxIdleTransactionServers: Int? = nil
    /// `leak_warn_after`: a client idle in a transaction this long is reported as a suspected leak.
    public var leakWarnAfter: Double = 10
    /// `warn_pool_usage`: share of a pool's servers in use above which a warning is logged.
    public var warnPoolUsage: Double = 0.8
    /// `server_connection_budget`: most server connections to one host; nil means read it from the server.
    public var serverConnectionBudget: Int? = nil
    /// `budget_headroom`: server slots left free for others when the budget is read from the server.
    public var budgetHeadroom: Int = 5
    /// `instances`: Spillway processes sharing the budget.
    public var instances: Int = 1
    /// `break_glass_users`: users with servers of their own that applications can never take.
    public var breakGlassUsers: [String] = []
    /// `break_glass_pool_size`: those servers, per break-glass user and database.
    public var breakGlassPoolSize: Int = 2
    /// `tcp_keepidle`, `tcp_keepintvl`, `tcp_keepcnt`: TCP keepalive timing on every socket.
    public var tcpKeepidle: Int = 30
    public var tcpKeepintvl: Int = 10
    public var tcpKeepcnt: Int = 3
    /// `tcp_user_timeout`: milliseconds unacknowledged data may wait before the connection is dropped.
    public var tcpUserTimeout: Int = 30_000
    /// `verbose`: extra log detail; 0 is normal, higher is chattier.
    public var verbose: Int = 0
    /// `so_reuseport`: set SO_REUSEPORT so several instances can share the port.
    public var soReuseport: Bool = false
    /// `tcp_keepalive`: enable TCP keepalive on client and server sockets.
    public var tcpKeepalive: Bool = true
    /// `idle_transaction_reclaim_after`: a holder idle in a transaction is reclaimed while others wait only
    /// after this long.
    public var idleTransactionReclaimAfter: Double = 2
    /// `max_db_client_connections`: client connections per database; 0 is unlimited.
    public var maxDBClientConnections: Int = 0
    /// `max_user_client_connections`: client connections per user; 0 is unlimited.
    public var maxUserClientConnections: Int = 0
    /// `transaction_timeout`: clients in a transaction longer than this are disconnected; 0 is off.
    public var transactionTimeout: Double = 0
    /// `query_wait_notify`: a client waiting this long for a server is told so with a NOTICE; 0 is off.
    public var queryWaitNotify: Double = 5
    /// `tcp_socket_buffer`: SO_SNDBUF and SO_RCVBUF of every socket in bytes; 0 keeps the system's.
    public var tcpSocketBuffer: Int = 0
    /// `listen_backlog`: backlog of the listening sockets.
    public var listenBacklog: Int = 1024
    /// `user`: the OS user to switch to after binding, when started as root.
    public var user: String? = nil
    /// `logfile`: file the log is appended to, besides standard error; reopened on reload.
    public var logfile: String? = nil
    /// `pidfile`: file the process id is written to while running.
    public var pidfile: String? = nil
    /// `syslog`: also log to syslog.
    public var syslog: Bool = false
    /// `syslog_ident`: program name in syslog.
    public var syslogIdent: String = "spillway"
    /// `syslog_facility`: syslog facility.
    public var syslogFacility: SyslogFacility = .daemon
    /// `unix_socket_mode`: permission bits of the Unix socket.
    public var unixSocketMode: Int = 0o777
    /// `unix_socket_group`: group owning the Unix socket; nil keeps the process's.
    public var unixSocketGroup: String? = nil
    /// PgBouncer settings Spillway does not implement, by INI name, as written in the file: refused unless they
    /// hold PgBouncer's default, or accepted with a warning when they only tune PgBouncer's internals.
    public var passthrough: [String: String] = [:]

    /// All defaults.
    public init() {}
}
