import PostgresWire
import SpillwayCore

/// Answers admin console commands (`psql -p 6432 pgbouncer -c 'SHOW POOLS'`) from the running pools, with
/// PgBouncer's column names, order and types, so its tools and exporters read Spillway unchanged.
struct AdminConsole {
    let backend: any ConsoleBackend
    var runtime: RuntimeConfig { backend.runtime }

    /// The database names that reach the console instead of a pool.
    static let databaseNames: Set<String> = ["pgbouncer", "spillway"]

    /// SHOW subjects this version answers.
    static let shows = [
        "POOLS", "CLIENTS", "SERVERS", "DATABASES", "CONFIG", "LISTS", "USERS", "VERSION", "STATS", "STATS_TOTALS",
        "STATS_AVERAGES", "TOTALS", "MEM", "DNS_HOSTS", "DNS_ZONES",
    ]

    /// SHOW subjects PgBouncer 1.18 does not have.
    static let ownShows = ["STATE", "APPLICATIONS", "LEAKS"]

    /// SHOW subjects of PgBouncer that Spillway refuses, and why.
    static let unsupportedShows: [String: String] = [
        "FDS": "SHOW FDS lists the sockets PgBouncer hands to its successor in an online restart; spillway does no takeover (run several processes with so_reuseport instead).",
        "SOCKETS": "SHOW SOCKETS prints PgBouncer's internal buffer state; use SHOW CLIENTS and SHOW SERVERS.",
        "ACTIVE_SOCKETS": "SHOW ACTIVE_SOCKETS prints PgBouncer's internal buffer state; use SHOW CLIENTS and SHOW SERVERS.",
    ]

    /// What a command line leads to.
    enum Outcome {
        case done(ResultSet)
        case failed(ErrorResponse)
        /// PAUSE: answer `result` once no server of `database` (nil: any) is lent out, after closing them.
        case afterQuiescence(database: String?, result: ResultSet)
        /// The answer is gathered from every loop: `start` calls its argument once, on any thread.
        case later(_ start: @Sendable (_ reply: @escaping Reply) -> Void)
    }

    typealias Reply = @Sendable (Result<ResultSet, ErrorResponse>) -> Void

    /// Runs one command line. `isAdmin`: the user is in admin_users (stats_users may only SHOW).
    func run(_ text: String, isAdmin: Bool, now: ContinuousClock.Instant = .now) -> Outcome {
        let command: AdminCommand
        do {
            command = try AdminCommand.parse(text)
        } catch {
            return .failed(Self.invalid(text, detail: error.message))
        }
        guard isAdmin || command.isReadOnly else {
            return .failed(ErrorResponse(
                severity: .error, code: .insufficientPrivilege, message: "admin access needed",
                hint: "stats_users may only run SHOW; add the user to admin_users for the rest."))
        }
        if let database = command.database, runtime.config.database(named: database) == nil {
            return .failed(ErrorResponse(severity: .error, code: .protocolViolation, message: "no such database: \(database)"))
        }
        switch command {
        case .show("LEAKS"):
            return .later { [backend] reply in
                backend.leakRows { rows in reply(.success(ResultSet(columns: Self.leakColumns, rows: rows))) }
            }
        case .show("CLIENTS"), .show("SERVERS"):
            let servers = command == .show("SERVERS")
            return .later { [backend] reply in
                backend.connectionReports(servers: servers) { reports in
                    reply(.success(ResultSet(columns: ConnectionReport.columns, rows: reports.map(\.row))))
                }
            }
        case .show(let what):
            if let refusal = Self.refusal(show: what) { return .failed(refusal) }
            return .later { [self] reply in
                backend.view(now: now) { view in reply(self.show(what, view: view, now: now)) }
            }
        case .pause(let database):
            backend.pause(database: database)
            return .afterQuiescence(database: database, result: .command("PAUSE"))
        case .resume(let database):
            backend.resume(database: database)
            return .done(.command("RESUME"))
        case .disable(let database):
            backend.setDisabled(true, database: database)
            return .done(.command("DISABLE"))
        case .enable(let database):
            backend.setDisabled(false, database: database)
            return .done(.command("ENABLE"))
        case .reconnect(let database):
            backend.reconnect(database: database)
            return .done(.command("RECONNECT"))
        case .killClient(let id):
            return .later { [backend] reply in
                backend.killClient(id: id) { found in
                    reply(found ? .success(.command("KILL_CLIENT"))
                        : .failure(ErrorResponse(severity: .error, code: .protocolViolation, message: "no such client: \(id)")))
                }
            }
        case .reload:
            switch backend.reload() {
            case .success: return .done(.command("RELOAD"))
            case .failure(let error):
                return .failed(ErrorResponse(
                    severity: .error, code: .invalidParameterValue, message: "reload refused: \(error)",
                    detail: "The running configuration stays in effect."))
            }
        case .set(let key, let value):
            switch backend.set(key, to: value) {
            case .success: return .done(.command("SET \(key)=\(value)"))
            case .failure(let error): return .failed(error)
            }
        case .kill(let database):
            backend.kill(database: database)
            return .done(.command("KILL"))
        case .shutdown(let mode):
            // WAIT_FOR_SERVERS / WAIT_FOR_CLIENTS drain first; plain SHUTDOWN closes at once. PgBouncer answers nothing.
            guard backend.requestShutdown(drain: mode != .immediate) else {
                return .failed(ErrorResponse(severity: .error, code: .featureNotSupported, message: "SHUTDOWN is not available here"))
            }
            return .done(.command("SHUTDOWN"))
        case .suspend:
            return .failed(ErrorResponse(
                severity: .error, code: .featureNotSupported,
                message: "SUSPEND is not supported by spillway",
                hint: "SUSPEND serves PgBouncer's online restart (takeover), which spillway does not do; run several spillway processes with so_reuseport instead."))
        }
    }

    /// Why SHOW `what` gets no answer, or nil when it gets one.
    private static func refusal(show what: String) -> ErrorResponse? {
        if let why = unsupportedShows[what] {
            return ErrorResponse(
                severity: .error, code: .featureNotSupported, message: "SHOW \(what) is not supported by spillway",
                detail: why)
        }
        guard shows.contains(what) || ownShows.contains(what) else {
            return invalid("SHOW \(what)", detail: "Spillway answers SHOW \((shows + ownShows).joined(separator: ", ")).")
        }
        return nil
    }

    private func show(_ what: String, view: ConsoleView, now: ContinuousClock.Instant) -> Result<ResultSet, ErrorResponse> {
        switch what {
        case "POOLS": return .success(pools(view))
        case "DATABASES": return .success(databases(view))
        case "CONFIG": return .success(config())
        case "LISTS": return .success(lists(view))
        case "USERS": return .success(users())
        case "VERSION": return .success(version())
        case "STATS": return .success(stats(view))
        case "STATS_TOTALS": return .success(statsTotals(view))
        case "STATS_AVERAGES": return .success(statsAverages(view))
        case "TOTALS": return .success(totals(view))
        case "MEM": return .success(memory(view))
        case "STATE": return .success(state(view))
        case "APPLICATIONS": return .success(applications(view))
        case "DNS_HOSTS": return .success(dnsHosts())
        case "DNS_ZONES": return .success(dnsZones())
        default: return .failure(Self.refusal(show: what) ?? Self.invalid("SHOW \(what)", detail: ""))
        }
    }

    /// PgBouncer's wording and SQLSTATE for a command it does not know, with what exists in the detail.
    private static func invalid(_ text: String, detail: String) -> ErrorResponse {
        ErrorResponse(
            severity: .error, code: .protocolViolation, message: "invalid command '\(text)', use SHOW HELP;",
            detail: detail, hint: "Commands: \(AdminCommand.commands.joined(separator: ", ")).")
    }

    // MARK: SHOW commands

    private func pools(_ view: ConsoleView) -> ResultSet {
        let columns: [ResultSet.Column] = [
            .text("database"), .text("user"), .int4("cl_active"), .int4("cl_waiting"), .int4("cl_active_cancel_req"),
            .int4("cl_waiting_cancel_req"), .int4("sv_active"), .int4("sv_active_cancel"), .int4("sv_being_canceled"),
            .int4("sv_idle"), .int4("sv_used"), .int4("sv_tested"), .int4("sv_login"), .int4("maxwait"),
            .int4("maxwait_us"), .text("pool_mode"),
        ]
        let rows = view.pools.map { pool -> [String?] in
            let wait = pool.oldestWait ?? .zero
            let seconds = wait.components.seconds
            let micros = wait.components.attoseconds / 1_000_000_000_000
            return [
                pool.key.database, pool.key.user, "\(pool.clients - pool.waiting)", "\(pool.waiting)", "0", "0",
                "\(pool.active)", "0", "0", "\(pool.idle)", "0", "\(pool.testing)", "\(pool.connecting)",
                "\(seconds)", "\(micros)", pool.mode.rawValue,
            ]
        }
        return ResultSet(columns: columns, rows: rows)
    }

    private func databases(_ view: ConsoleView) -> ResultSet {
        let columns: [ResultSet.Column] = [
            .text("name"), .text("host"), .int4("port"), .text("database"), .text("force_user"), .int4("pool_size"),
            .int4("min_pool_size"), .int4("reserve_pool"), .text("pool_mode"), .int4("max_connections"),
            .int4("current_connections"), .int4("paused"), .int4("disabled"),
        ]
        let config = runtime.config
        let rows = config.databases.values.sorted { $0.name < $1.name }.map { database -> [String?] in
            let current = view.pools.filter { $0.key.database == database.name }.reduce(0) { $0 + $1.servers }
            return [
                database.name, database.host, "\(database.port)", database.dbname ?? (database.name == "*" ? nil : database.name),
                database.user, "\(database.poolSize ?? config.settings.defaultPoolSize)",
                "\(config.minPoolSize(database: database))", "\(config.reservePoolSize(database: database))",
                database.poolMode?.rawValue, "\(config.maxDBConnections(database: database))", "\(current)",
                view.paused.contains(database.name) ? "1" : "0",
                view.disabled.contains(database.name) ? "1" : "0",
            ]
        }
        return ResultSet(columns: columns, rows: rows)
    }

    private func config() -> ResultSet {
        let settings = runtime.settings
        let rows = SettingsTable.all.sorted { $0.name < $1.name }.map { definition -> [String?] in
            [definition.name, definition.currentText(settings), definition.defaultText, definition.reloadable ? "yes" : "no"]
        }
        return ResultSet(columns: [.text("key"), .text("value"), .text("default"), .text("changeable")], rows: rows)
    }

    private func lists(_ view: ConsoleView) -> ResultSet {
        let counts = view.lists
        let config = runtime.config
        let rows: [[String?]] = [
            ["databases", "\(config.databases.count)"], ["users", "\(runtime.userList.passwords.count)"],
            ["pools", "\(counts.pools)"], ["free_clients", "0"], ["used_clients", "\(counts.clients)"],
            ["login_clients", "0"], ["free_servers", "0"], ["used_servers", "\(counts.servers)"],
            ["dns_names", "0"], ["dns_zones", "0"], ["dns_queries", "0"], ["dns_pending", "0"],
        ]
        return ResultSet(columns: [.text("list"), .int4("items")], rows: rows)
    }

    private func users() -> ResultSet {
        let config = runtime.config
        let names = Set(runtime.userList.passwords.keys).union(config.users.keys).sorted()
        let rows = names.map { name -> [String?] in [name, config.users[name]?.poolMode?.rawValue] }
        return ResultSet(columns: [.text("name"), .text("pool_mode")], rows: rows)
    }

    private func version() -> ResultSet {
        ResultSet(columns: [.text("version")], rows: [["Spillway \(SpillwayVersion.current)"]])
    }
}

/// The version Spillway reports (SHOW VERSION, server_version suffix).
enum SpillwayVersion {
    static let current = "0.1.0"
}
