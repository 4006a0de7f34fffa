/// One `[databases]` line: a client-visible database alias and where its server connections go.
///
/// `orders = host=10.0.0.5 port=5432 dbname=orders_prod pool_size=30 pool_mode=transaction`.
/// Unset values are nil and fall back to `[users]` or `[pgbouncer]` where that applies
/// (see `Config.poolMode(database:user:)`). `DatabaseConfig.parameters` lists every accepted key.
public struct DatabaseConfig: Sendable, Equatable {
    /// The alias clients ask for, or `*` for the fallback line (replaced by the requested name by
    /// `Config.database(named:)`).
    public var name: String
    /// `host`: server host name, address, or Unix socket folder (starts with `/`); nil means the
    /// server runs on this machine (Spillway then connects to 127.0.0.1). Stored as written.
    public var host: String?
    /// `port`: server port.
    public var port: Int
    /// `dbname`: database name on the server; nil means the same as `name`.
    public var dbname: String?
    /// `user`: log in to the server as this user, whatever user the client logged in as.
    public var user: String?
    /// `password`: password for the forced `user`.
    public var password: String?
    /// `pool_size`: overrides `default_pool_size` for this database.
    public var poolSize: Int?
    /// `min_pool_size`: overrides the global `min_pool_size` for this database.
    public var minPoolSize: Int?
    /// `reserve_pool`: overrides `reserve_pool_size` for this database.
    public var reservePool: Int?
    /// `pool_mode`: overrides the global `pool_mode` for this database.
    public var poolMode: PoolMode?
    /// `max_db_connections`: overrides the global `max_db_connections` for this database when above 0.
    public var maxDBConnections: Int?
    /// `connect_query`: run once on every new server connection.
    public var connectQuery: String?
    /// `application_name`: startup parameter sent to the server.
    public var applicationName: String?
    /// `client_encoding`: startup parameter sent to the server.
    public var clientEncoding: String?
    /// `datestyle`: startup parameter sent to the server.
    public var datestyle: String?
    /// `timezone`: startup parameter sent to the server.
    public var timezone: String?
    /// `max_db_client_connections`: client connections to this database; nil or 0 falls back to the global.
    public var maxDBClientConnections: Int?
    /// PgBouncer keys Spillway does not implement (`auth_query`, `load_balance_hosts` …): any value is refused.
    public var passthrough: [String: String]

    public init(
        name: String,
        host: String? = nil,
        port: Int = 5432,
        dbname: String? = nil,
        user: String? = nil,
        password: String? = nil,
        poolSize: Int? = nil,
        minPoolSize: Int? = nil,
        reservePool: Int? = nil,
        poolMode: PoolMode? = nil,
        maxDBConnections: Int? = nil,
        connectQuery: String? = nil,
        applicationName: String? = nil,
        clientEncoding: String? = nil,
        datestyle: String? = nil,
        timezone: String? = nil,
        maxDBClientConnections: Int? = nil,
        passthrough: [String: String] = [:]
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.dbname = dbname
        self.user = user
        self.password = password
        self.poolSize = poolSize
        self.minPoolSize = minPoolSize
        self.reservePool = reservePool
        self.poolMode = poolMode
        self.maxDBConnections = maxDBConnections
        self.connectQuery = connectQuery
        self.applicationName = applicationName
        self.clientEncoding = clientEncoding
        self.datestyle = datestyle
        self.timezone = timezone
        self.maxDBClientConnections = maxDBClientConnections
        self.passthrough = passthrough
    }

    /// The database name to ask the server for: `dbname`, else the alias.
    public var serverDatabaseName: String { dbname ?? name }

    /// The host to connect to: `host`, else 127.0.0.1.
    public var serverHost: String { host ?? "127.0.0.1" }
}

extension DatabaseConfig {
    /// The keys a `[databases]` connection string accepts, in documentation order.
    public static let parameters: [ParameterDefinition<DatabaseConfig>] = rows.map {
        $0.withDefault(from: DatabaseConfig(name: ""))
    }

    private static let rows: [ParameterDefinition<DatabaseConfig>] = [
        .string("host", \.host, "Server host name or address; a folder starting with `/` means a Unix socket."),
        .integer("port", \.port, 1...65535, "Server port."),
        .string("dbname", \.dbname, "Database name on the server; defaults to the alias."),
        .string("user", \.user, "Log in to the server as this user, whatever user the client logged in as."),
        .string("password", \.password, "Password for the forced `user`."),
        .integer("pool_size", \.poolSize, 0...10_000, "Overrides `default_pool_size` for this database."),
        .integer("min_pool_size", \.minPoolSize, 0...10_000, "Overrides `min_pool_size` for this database."),
        .integer("reserve_pool", \.reservePool, 0...10_000, "Overrides `reserve_pool_size` for this database."),
        .choice("pool_mode", \.poolMode, "Overrides `pool_mode` for this database."),
        .integer(
            "max_db_connections", \.maxDBConnections, 0...100_000,
            "Overrides `max_db_connections` for this database when above 0."),
        .string("connect_query", \.connectQuery, "Query run once on every new server connection."),
        .string("application_name", \.applicationName, "`application_name` sent to the server."),
        .string("client_encoding", \.clientEncoding, "`client_encoding` sent to the server."),
        .string("datestyle", \.datestyle, "`DateStyle` sent to the server."),
        .string("timezone", \.timezone, "`TimeZone` sent to the server."),
        .integer(
            "max_db_client_connections", \.maxDBClientConnections, 0...1_000_000,
            "Overrides `max_db_client_connections` for this database when above 0."),
        .integer("reserve_pool_size", \.reservePool, 0...10_000, "Newer PgBouncer spelling of `reserve_pool`."),
        .unsupported("auth_user", \.passthrough, "User whose credentials run `auth_query` for this database."),
        .unsupported("auth_dbname", \.passthrough, "Database in which `auth_query` runs."),
        .unsupported("auth_query", \.passthrough, "Query that looks up a user's password for this database."),
        .unsupported("server_lifetime", \.passthrough, "Overrides `server_lifetime` for this database."),
        .unsupported("load_balance_hosts", \.passthrough, "How to pick among several hosts."),
        .unsupported("target_session_attrs", \.passthrough, "Which kind of server (primary, standby) to accept."),
    ]
}
