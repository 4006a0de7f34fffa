import SpillwayCore

/// A safety bound Spillway has on by default that the configuration turns off, and what that leaves exposed.
/// A warning only: `spillway check` does not fail for it.
public struct CheckDisabledBound: Sendable, Equatable {
    /// The setting, as spelled in the INI file.
    public var setting: String
    /// Its value in the file, as the table formats it (`0`, `off`, `20`).
    public var value: String
    /// What turning it off exposes, one sentence.
    public var exposes: String

    public init(setting: String, value: String, exposes: String) {
        self.setting = setting
        self.value = value
        self.exposes = exposes
    }

    /// `- query_wait_timeout = 0: clients wait …`.
    public var line: String { "- \(setting) = \(value): \(exposes)" }

    /// Every default-on bound that `config` turns off. `users`: who may log in, to find the pools that
    /// `max_idle_transaction_servers` would no longer reclaim from.
    public static func all(in config: Config, users: [String]) -> [CheckDisabledBound] {
        let settings = config.settings
        var bounds: [CheckDisabledBound] = []
        // Timeouts: 0 turns each off.
        let timeouts: [(name: String, value: Double, exposes: String)] = [
            ("cancel_wait_timeout", settings.cancelWaitTimeout,
             "0 is not 'off' here: a cancel request gets 0.1 s to reach the server, so on a slow network "
                + "runaway queries cannot be canceled"),
            ("client_login_timeout", settings.clientLoginTimeout,
             "clients that connect and never finish logging in keep their client slot forever"),
            ("idle_transaction_timeout", settings.idleTransactionTimeout,
             "a client idle inside a transaction keeps its server, and its locks, forever"),
            ("leak_warn_after", settings.leakWarnAfter,
             "sessions left idle inside a transaction are never reported as suspected leaks"),
            ("query_wait_timeout", settings.queryWaitTimeout,
             "clients wait forever for a server, so an exhausted pool hangs every caller instead of failing fast"),
            ("server_connect_timeout", settings.serverConnectTimeout,
             "a server that accepts TCP and never answers the login holds a pool slot forever"),
            ("server_idle_timeout", settings.serverIdleTimeout,
             "idle servers are never closed, so each pool keeps its peak size on the database"),
            ("server_lifetime", settings.serverLifetime,
             "servers are never recycled: backend memory keeps growing and connections outlive failovers"),
        ]
        for timeout in timeouts where timeout.value == 0 {
            bounds.append(CheckDisabledBound(setting: timeout.name, value: "0", exposes: timeout.exposes))
        }
        if settings.reservePoolSize == 0 {
            bounds.append(CheckDisabledBound(
                setting: "reserve_pool_size", value: "0",
                exposes: "no spare servers when clients wait past reserve_pool_timeout: a burst queues until "
                    + "query_wait_timeout"))
        }
        if !settings.tcpKeepalive {
            bounds.append(CheckDisabledBound(
                setting: "tcp_keepalive", value: "off",
                exposes: "a vanished client or server host is noticed only when a write fails; its server stays "
                    + "held until then"))
        }
        if settings.tcpUserTimeout == 0 {
            bounds.append(CheckDisabledBound(
                setting: "tcp_user_timeout", value: "0",
                exposes: "data sent to a vanished peer may wait for acknowledgement for many minutes before the "
                    + "connection is dropped"))
        }
        if let limit = settings.maxIdleTransactionServers {
            let pools = unreclaimedPools(in: config, users: users, limit: limit)
            if !pools.isEmpty {
                bounds.append(CheckDisabledBound(
                    setting: "max_idle_transaction_servers", value: "\(limit)",
                    exposes: "not below the pool size of \(pools.joined(separator: ", ")): sessions idle in a "
                        + "transaction are never reclaimed while clients wait, so leaked sessions can take "
                        + "the whole pool"))
            }
        }
        return bounds.sorted { $0.setting < $1.setting }
    }

    /// The pools whose size is at most `limit`: `orders (20)` when every pool of the database is, else
    /// `orders/alice (5)` for each one that is; `default_pool_size (20)` when no database is named.
    static func unreclaimedPools(in config: Config, users: [String], limit: Int) -> [String] {
        let databases = config.databases.values.filter { $0.name != "*" }.sorted { $0.name < $1.name }
        guard !databases.isEmpty else {
            let size = config.settings.defaultPoolSize
            return limit >= size ? ["default_pool_size (\(size))"] : []
        }
        var pools: [String] = []
        for database in databases {
            let sizes = CheckWorstCase.poolUsers(of: database, users: users).map { user in
                (user: user, size: config.poolSize(database: database, user: user))
            }
            let affected = sizes.filter { $0.size <= limit }
            if affected.count == sizes.count {
                let largest = sizes.map(\.size).max() ?? 0
                pools.append("\(database.name) (\(largest))")
            } else {
                pools += affected.map { "\(database.name)/\($0.user) (\($0.size))" }
            }
        }
        return pools
    }
}
