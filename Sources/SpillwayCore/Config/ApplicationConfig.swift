/// One `[applications]` line: `nightly-job = max_server_connections=4 max_client_connections=50 weight=0.5`.
///
/// The name is an `application_name` (or, for clients that set none, their address as `ip`, without port).
public struct ApplicationConfig: Sendable, Equatable {
    public var name: String
    /// Share of a pool's servers relative to other applications when several wait.
    public var weight: Double = 1
    /// Most servers of one pool the application may hold at once.
    public var maxServerConnections: Int?
    /// Most client connections the application may have open in all.
    public var maxClientConnections: Int?

    public init(name: String, weight: Double = 1, maxServerConnections: Int? = nil, maxClientConnections: Int? = nil) {
        self.name = name
        self.weight = weight
        self.maxServerConnections = maxServerConnections
        self.maxClientConnections = maxClientConnections
    }

    /// What the pools act on.
    public var policy: ApplicationPolicy {
        ApplicationPolicy(
            weight: weight, maxServerConnections: maxServerConnections, maxClientConnections: maxClientConnections)
    }
}

extension ApplicationConfig {
    /// The keys an `[applications]` line accepts, in documentation order.
    public static let parameters: [ParameterDefinition<ApplicationConfig>] = [
        .integer(
            "max_server_connections", \.maxServerConnections, 0...100_000,
            "Most servers of one pool this application may hold at once; its other clients wait."),
        .integer(
            "max_client_connections", \.maxClientConnections, 0...1_000_000,
            "Most client connections this application may have open; more are refused with 53300."),
        .custom(
            "weight", \.weight, kind: .string,
            "Share of a pool's servers relative to other applications when several wait (default 1).",
            parse: { (text: String) throws(InvalidSettingValue) -> Double in
                guard let value = Double(ConfigValue.trimmed(text)), value > 0, value <= 1_000 else {
                    throw InvalidSettingValue("weight: expected a number above 0 and at most 1000, got '\(text)'")
                }
                return value
            },
            format: { String($0) }),
    ]
}
