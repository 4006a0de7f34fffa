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
    /// `max_user_client_connections`: client connections of this user; nil or 0 falls back to the global.
    public var maxUserClientConnections: Int?
    /// PgBouncer keys Spillway does not implement (`client_idle_timeout` …): any value is refused.
    public var passthrough: [String: String]

    public init(
        name: String,
        poolMode: PoolMode? = nil,
        poolSize: Int? = nil,
        maxUserConnections: Int? = nil,
        maxUserClientConnections: Int? = nil,
        passthrough: [String: String] = [:]
    ) {
        self.name = name
        self.poolMode = poolMode
        self.poolSize = poolSize
        self.maxUserConnections = maxUserConnections
        self.maxUserClientConnections = maxUserClientConnections
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
        .integer(
            "max_user_client_connections", \.maxUserClientConnections, 0...1_000_000,
            "Overrides `max_user_client_connections` for this user when above 0."),
        .unsupported("client_idle_timeout", \.passthrough, "Overrides `client_idle_timeout` for this user."),
        .unsupported("query_timeout", \.passthrough, "Overrides `query_timeout` for this user."),
        .unsupported("idle_transaction_timeout", \.passthrough, "Overrides `idle_transaction_timeout` for this user."),
        .unsupported("reserve_pool_size", \.passthrough, "Reserve pool for this user."),
    ]
}
