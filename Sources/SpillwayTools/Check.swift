import SpillwayCore

/// `spillway check`: reads the server side of every configured host's connection budget and sets the worst
/// case the configuration allows against it. The only part that does I/O: it connects to each host once, runs
/// `ServerBudget.query` and hands the numbers to the pure `CheckHostReport`.
public struct Check: Sendable {
    /// The loaded configuration.
    public var config: Config
    /// Command-line overrides and environment.
    public var options: CheckOptions

    public init(config: Config, options: CheckOptions) {
        self.config = config
        self.options = options
    }

    /// Spillway processes in front of each server: `--instances`, else the file's `instances`.
    public var instances: Int { options.instances ?? config.settings.instances }

    /// Loads the auth_file (a `ConfigError` when it cannot be read), measures every host at once and builds
    /// the report. Unreachable hosts become rows that cannot be verified; they never throw.
    public func run() async throws(ConfigError) -> CheckReport {
        let userList = try loadUserList()
        let users = Set(userList.passwords.keys).union(config.users.keys).sorted()
        let hosts = CheckHost.group(config)
        let measurements = await withTaskGroup(of: (String, CheckMeasurement).self) { group in
            for host in hosts {
                group.addTask { (host.address, await measure(host, userList: userList)) }
            }
            var measurements: [String: CheckMeasurement] = [:]
            for await (address, measurement) in group { measurements[address] = measurement }
            return measurements
        }
        let rows = hosts.map { host in
            CheckHostReport(
                host: host, worstCase: CheckWorstCase(host: host, config: config, users: users),
                measurement: measurements[host.address] ?? .failed("not measured"),
                explicitBudget: config.settings.serverConnectionBudget, instances: instances)
        }
        return CheckReport(
            rows: rows, disabledBounds: CheckDisabledBound.all(in: config, users: users),
            hasWildcard: config.databases["*"] != nil)
    }

    /// The auth_file's users and passwords; empty when there is no auth_file.
    func loadUserList() throws(ConfigError) -> UserList {
        guard let authFile = config.settings.authFile else { return UserList() }
        return try UserList.load(path: authFile)
    }

    /// Logs in to `host` through its first database and reads its budget.
    func measure(_ host: CheckHost, userList: UserList) async -> CheckMeasurement {
        guard let database = host.first else { return .failed("no database on this host") }
        guard !host.isUnixSocket else {
            return .failed("the check connects over TCP only; give this database host=127.0.0.1 to check it")
        }
        let credentials = CheckCredentials.resolve(
            database: database, optionUser: options.user, optionPassword: options.password, userList: userList,
            environment: options.environment, systemUser: options.systemUser)
        let client: WireClient
        do {
            client = try await WireClient.connect(WireClient.Configuration(
                host: database.serverHost, port: database.port, user: credentials.user,
                password: credentials.password, database: database.serverDatabaseName,
                applicationName: "spillway check", connectTimeout: options.connectTimeout))
        } catch {
            return .failed(Self.loginFailure(error, database: database, credentials: credentials))
        }
        let measurement: CheckMeasurement
        do {
            let result = try await client.query(ServerBudget.query, timeout: options.queryTimeout)
            if let row = result.rows.first,
               let parsed = ServerBudget.parse(row, headroom: config.settings.budgetHeadroom, instances: instances)
            {
                measurement = .measured(parsed.budget, clientBackends: parsed.backends)
            } else {
                measurement = .failed("unexpected answer to the budget query: \(result.rows)")
            }
        } catch {
            measurement = .failed("budget query: \(error)")
        }
        await client.close()
        return measurement
    }

    /// `database orders as app: FATAL 28P01: …`, with the credentials' note when the login was refused.
    static func loginFailure(_ error: any Error, database: DatabaseConfig, credentials: CheckCredentials) -> String {
        var text = "database \(database.serverDatabaseName) as \(credentials.user): \(error)"
        let refused: Bool = switch error as? WireClientError {
        case .authentication?: true
        case let failure? where failure.sqlState?.hasPrefix("28") == true: true
        default: false
        }
        if refused, let note = credentials.note {
            text += " (\(note))"
        }
        return text
    }
}
