import Synchronization

/// A bound every loop's pool shards share — `pool_size`, `max_db_connections`, `max_user_connections`, a host's
/// connection budget: a count of servers taken against a limit.
///
/// A shard takes one before it opens a server and gives it back when that server is gone, so `used` is at every
/// instant the number of servers counted against the bound, whichever loops hold them. Taking is one
/// compare-and-swap; nothing is locked while a shard decides.
public final class SharedLimit: Sendable, CustomStringConvertible {
    /// What the bound is called in messages, e.g. `max_db_connections`.
    public let name: String
    private let limitValue: Atomic<Int>
    private let usedValue = Atomic<Int>(0)

    /// A bound of `limit` servers; `Int.max` for none.
    public init(name: String, limit: Int) {
        self.name = name
        self.limitValue = Atomic(limit)
    }

    /// The limit now (reload can change it).
    public var limit: Int { self.limitValue.load(ordering: .relaxed) }

    /// Servers counted against it now.
    public var used: Int { self.usedValue.load(ordering: .acquiring) }

    /// Room left (0 when full or over after a lowered limit).
    public var available: Int { max(self.limit - self.used, 0) }

    /// Counts one more server if the limit allows it.
    public func tryTake() -> Bool {
        var current = self.usedValue.load(ordering: .relaxed)
        while true {
            guard current < self.limitValue.load(ordering: .relaxed) else { return false }
            let (exchanged, original) = self.usedValue.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }

    /// Counts one more whatever the limit: for counts a policy reads (servers an application holds) rather than
    /// bounds that must hold; give it back like any other.
    public func add() {
        self.usedValue.add(1, ordering: .acquiringAndReleasing)
    }

    /// Gives back one server taken with `tryTake`.
    public func giveBack() {
        let before = self.usedValue.subtract(1, ordering: .acquiringAndReleasing).oldValue
        precondition(before > 0, "\(self.name): a server given back that was never taken")
    }

    /// Changes the limit (RELOAD, a budget read from the server). Servers already counted stay; a lower limit
    /// only stops new ones.
    public func setLimit(_ limit: Int) {
        self.limitValue.store(limit, ordering: .relaxed)
    }

    public var description: String {
        let limit = self.limit
        return "\(self.name) \(self.used)/\(limit == .max ? "unlimited" : String(limit))"
    }
}

extension SharedLimit: Hashable {
    /// A bound is itself: two are equal only when they are the same counter.
    public static func == (lhs: SharedLimit, rhs: SharedLimit) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// The shared bounds one server was counted against, taken together and given back together.
///
/// A server of pool (db, user) counts against its pool, its database, its user and its host; it opens only if
/// every one has room. Taking is in order with the taken ones given back when a later one is full, so no bound
/// is ever exceeded, not even for an instant.
public struct ServerClaim: Sendable, Equatable {
    /// The bounds held, in the order they were taken.
    public let limits: [SharedLimit]

    /// What taking the bounds gave.
    public enum Outcome: Sendable {
        /// Every bound had room: the server may open; give the claim back when it closes.
        case granted(ServerClaim)
        /// `limit` was full (the ones before it were given back).
        case refused(by: SharedLimit)
    }

    /// Takes one from every bound in `limits`, or none.
    public static func take(_ limits: [SharedLimit]) -> Outcome {
        for (index, limit) in limits.enumerated() where !limit.tryTake() {
            for taken in limits[..<index].reversed() { taken.giveBack() }
            return .refused(by: limit)
        }
        return .granted(ServerClaim(limits: limits))
    }

    /// Gives every bound back; call once, when the server is gone.
    public func giveBack() {
        for limit in self.limits.reversed() { limit.giveBack() }
    }
}
