/// One `[users]` line: per-user overrides, e.g. `nightly = pool_mode=transaction max_user_connections=5`.
///
/// Unset values are nil and fall back to the database's or the global setting.
/// `UserConfig.parameters` lists every accepted key.
public struct UserConfig: Sendable, Equatable {
    /// The user name clients log in as.
    public var name: String
    /// `pool_mode`: overrides the database's and the global `pool_mode` for this user.
    public var poolMode: PoolMode?
    /// `pool_size`: overrides the database's `pool_size` and `default_pool_size` for this user.
    public var poolSize: Int?
    /// `max_user_connections`: overrides the global `max_user_connections` for this user when above 0.
    public var maxUserConnections: Int?
    /// PgBouncer keys accepted with no effect yet (`client_idle_timeout` …), as written.
    public var passthrough: [String: String]

    public init(
        name: String,
        poolMode: PoolMode? = nil,
        poolSize: Int? = nil,
        maxUserConnections: Int? = nil,
        passthrough: [String: String] = [:]
    ) {
        self.name = name
        self.poolMode = poolMode
        self.poolSize = poolSize
        self.maxUserConnections = maxUserConnections
        self.passthrough = passthrough
    }
}

extension UserConfig {
    /// The keys a `[users]` line accepts, in documentation order.
    public static let parameters: [ParameterDefinition<UserConfig>] = [
        .choice("pool_mode", \.poolMode, "Overrides the database's and the global `pool_mode` for this user."),
        .integer("pool_size", \.poolSize, 0...10_000, "Overrides the database's `pool_size` for this user."),
        .integer(
            "max_user_connections", \.maxUserConnections, 0...100_000,
            "Overrides `max_user_connections` for this user when above 0."),
        .passthrough("max_user_client_connections", \.passthrough, "Client connections allowed for this user."),
        .passthrough("client_idle_timeout", \.passthrough, "Overrides `client_idle_timeout` for this user."),
        .passthrough("query_timeout", \.passthrough, "Overrides `query_timeout` for this user."),
        .passthrough("idle_transaction_timeout", \.passthrough, "Overrides `idle_transaction_timeout` for this user."),
        .passthrough("reserve_pool_size", \.passthrough, "Reserve pool for this user."),
    ]
}
