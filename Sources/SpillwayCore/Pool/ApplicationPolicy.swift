/// What the `[applications]` section says of one application: its weight in fair sharing and its caps.
public struct ApplicationPolicy: Sendable, Equatable {
    /// Share of a pool's servers relative to other applications (default 1).
    public var weight: Double
    /// Most servers of one pool it may hold at once; nil is no cap.
    public var maxServerConnections: Int?
    /// Most client connections it may have open in all; nil is no cap.
    public var maxClientConnections: Int?

    public init(weight: Double = 1, maxServerConnections: Int? = nil, maxClientConnections: Int? = nil) {
        self.weight = weight
        self.maxServerConnections = maxServerConnections
        self.maxClientConnections = maxClientConnections
    }
}
