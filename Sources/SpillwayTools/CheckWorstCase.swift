import SpillwayCore

/// The most server connections one Spillway instance could open to one host if every pool filled up: per
/// database, pool size plus reserve for every user who may log in to it, capped by `max_db_connections`; then
/// the sum, which the pooler itself holds to the host's budget.
public struct CheckWorstCase: Sendable, Equatable {
    /// Servers the configuration asks for on the host, before the budget.
    public var configured: Int
    /// Servers per database alias, each already capped by its `max_db_connections`.
    public var perDatabase: [String: Int]

    public init(configured: Int, perDatabase: [String: Int]) {
        self.configured = configured
        self.perDatabase = perDatabase
    }

    /// Adds up `host`'s databases. `users`: who may log in (auth_file and `[users]`); a database with a forced
    /// `user=` has one pool whatever the client's name, and with no known user a database still has one pool.
    public init(host: CheckHost, config: Config, users: [String]) {
        var perDatabase: [String: Int] = [:]
        for database in host.databases {
            perDatabase[database.name] = Self.servers(of: database, config: config, users: users)
        }
        self.init(configured: perDatabase.values.reduce(0, +), perDatabase: perDatabase)
    }

    /// What `database` alone could open: Σ over its pools of pool size + reserve, capped by max_db_connections.
    public static func servers(of database: DatabaseConfig, config: Config, users: [String]) -> Int {
        let pools = poolUsers(of: database, users: users)
        let reserve = config.reservePoolSize(database: database)
        let total = pools.reduce(0) { $0 + config.poolSize(database: database, user: $1) + reserve }
        let cap = config.maxDBConnections(database: database)
        return cap > 0 ? min(total, cap) : total
    }

    /// The users `database` has a pool for: its forced `user=`, else `users`, else one pool of no particular
    /// user (`""`, which takes the database's or the default pool size).
    public static func poolUsers(of database: DatabaseConfig, users: [String]) -> [String] {
        if let forced = database.user { return [forced] }
        return users.isEmpty ? [""] : users
    }

    /// What the instance can really open: `configured`, held to `budget` as the running pooler holds it.
    public func held(to budget: Int) -> Int { min(configured, budget) }
}
