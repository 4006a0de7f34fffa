/// A whole configuration: the `[pgbouncer]` settings, `[databases]` and `[users]`, read from a pgbouncer.ini
/// (or spillway.ini), plus the warnings found while reading it.
///
/// Build one with `Config.parse(_:file:)` (text) or `Config.load(path:)` (a file, with `%include` and
/// `auth_file` resolution). Effective per-pool values are answered by the methods below, which apply
/// PgBouncer's precedence: `[users]`, then `[databases]`, then `[pgbouncer]`.
public struct Config: Sendable, Equatable {
    /// The `[pgbouncer]` / `[spillway]` section.
    public var settings: Settings
    /// `[databases]` by alias, `*` included when present.
    public var databases: [String: DatabaseConfig]
    /// `[users]` by user name.
    public var users: [String: UserConfig]
    /// `[applications]` by application name.
    public var applications: [String: ApplicationConfig] = [:]
    /// Problems that did not stop the config from loading, in file order: unknown settings and the like.
    public var warnings: [ConfigDiagnostic]
    /// The file it was loaded from; nil when parsed from text.
    public var path: String?

    public init(
        settings: Settings = Settings(),
        databases: [String: DatabaseConfig] = [:],
        users: [String: UserConfig] = [:]
    ) {
        self.settings = settings
        self.databases = databases
        self.users = users
        self.warnings = []
        self.path = nil
    }

    /// Parses INI text; `file` names it in diagnostics. Throws `ConfigError` for the first bad line or value.
    /// `%include` lines are refused here (there is no file to resolve them against); use `load(path:)`.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> Config {
        try parse(lines: INIReader.read(text, file: file))
    }

    /// Builds a config from lines that have had their `%include`s expanded.
    static func parse(lines: [INIReader.Line]) throws(ConfigError) -> Config {
        var parser = ConfigParser()
        for line in lines {
            try parser.consume(line)
        }
        return parser.config
    }

    /// The database config for the database a client asked for: the exact alias, else the `*` line with
    /// `name` set to the requested name and `dbname` to the requested name unless `*` sets one; nil if neither.
    public func database(named requested: String) -> DatabaseConfig? {
        if let exact = databases[requested] { return exact }
        guard var fallback = databases["*"] else { return nil }
        fallback.name = requested
        fallback.dbname = fallback.dbname ?? requested
        return fallback
    }

    /// Weights and caps of the `[applications]` section, for the pools.
    public var applicationPolicies: [String: ApplicationPolicy] {
        applications.mapValues(\.policy)
    }

    /// Pool mode for (database, user): the `[users]` line's, else the database's, else `pool_mode`.
    public func poolMode(database: DatabaseConfig, user: String) -> PoolMode {
        users[user]?.poolMode ?? database.poolMode ?? settings.poolMode
    }

    /// Pool size for (database, user): the `[users]` line's, else the database's, else `default_pool_size`.
    public func poolSize(database: DatabaseConfig, user: String) -> Int {
        users[user]?.poolSize ?? database.poolSize ?? settings.defaultPoolSize
    }

    /// Minimum pool size for a database: its `min_pool_size`, else the global one.
    public func minPoolSize(database: DatabaseConfig) -> Int {
        database.minPoolSize ?? settings.minPoolSize
    }

    /// Reserve pool size for a database: its `reserve_pool`, else `reserve_pool_size`.
    public func reservePoolSize(database: DatabaseConfig) -> Int {
        database.reservePool ?? settings.reservePoolSize
    }

    /// Server connection limit for a database (0 = unlimited): its `max_db_connections` when above 0,
    /// else the global one, as in PgBouncer.
    public func maxDBConnections(database: DatabaseConfig) -> Int {
        if let limit = database.maxDBConnections, limit > 0 { return limit }
        return settings.maxDBConnections
    }

    /// Server connection limit for a user (0 = unlimited): the `[users]` line's `max_user_connections` when
    /// above 0, else the global one, as in PgBouncer.
    public func maxUserConnections(user: String) -> Int {
        if let limit = users[user]?.maxUserConnections, limit > 0 { return limit }
        return settings.maxUserConnections
    }
}
