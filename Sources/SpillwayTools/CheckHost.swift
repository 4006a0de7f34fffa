import SpillwayCore

/// One PostgreSQL server as `spillway check` sees it: its address, keyed the way the running pooler keys its
/// connection budgets, and the configured `[databases]` entries whose servers go there.
public struct CheckHost: Sendable, Equatable {
    /// `host:port`, or the socket path `host/.s.PGSQL.port` when the host is a folder (starts with `/`).
    public var address: String
    /// The entries on this server, by alias; never empty, never `*`.
    public var databases: [DatabaseConfig]

    public init(address: String, databases: [DatabaseConfig]) {
        self.address = address
        self.databases = databases
    }

    /// True when the server is reached through a Unix socket.
    public var isUnixSocket: Bool { address.hasPrefix("/") }

    /// The entry the check logs in through: the first by alias.
    public var first: DatabaseConfig? { databases.first }

    /// The budget key of `database`'s server, as the pooler spells it.
    public static func address(of database: DatabaseConfig) -> String {
        let host = database.serverHost
        return host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(database.port)" : "\(host):\(database.port)"
    }

    /// The configured databases grouped by server, the `*` line left out (it names no database); hosts sorted
    /// by address, databases by alias.
    public static func group(_ config: Config) -> [CheckHost] {
        let named = config.databases.values.filter { $0.name != "*" }.sorted { $0.name < $1.name }
        let byAddress = Dictionary(grouping: named, by: address(of:))
        return byAddress.keys.sorted().compactMap { key in
            byAddress[key].map { CheckHost(address: key, databases: $0) }
        }
    }
}
