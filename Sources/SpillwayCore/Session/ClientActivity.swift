/// What a client is doing and since when, packed into one 64-bit word so its event loop can publish it with a
/// single atomic store and upkeep on another thread can read it without a lock.
///
/// Times are monotonic nanoseconds (any fixed origin, the same for writer and reader).
public enum ClientActivity: Sendable, Equatable {
    /// Nothing published (not logged in, or no server linked).
    case unknown
    /// A request is running on its server since then.
    case busy(since: UInt64)
    /// Between transactions since then (in session mode with its server, or without one).
    case idle(since: UInt64)
    /// Inside a transaction with nothing running, since then: the state the leak guard watches.
    case idleInTransaction(since: UInt64)

    public init(word: UInt64) {
        let since = word >> 2
        switch word & 3 {
        case 1: self = .busy(since: since)
        case 2: self = .idle(since: since)
        case 3: self = .idleInTransaction(since: since)
        default: self = .unknown
        }
    }

    public var word: UInt64 {
        switch self {
        case .unknown: 0
        case .busy(let since): since << 2 | 1
        case .idle(let since): since << 2 | 2
        case .idleInTransaction(let since): since << 2 | 3
        }
    }

    /// How long the client has been idle inside its transaction at `now`, or nil when it is not.
    public func idleInTransaction(at now: UInt64) -> Duration? {
        guard case .idleInTransaction(let since) = self else { return nil }
        return .nanoseconds(Int64(clamping: now > since ? now - since : 0))
    }
}
