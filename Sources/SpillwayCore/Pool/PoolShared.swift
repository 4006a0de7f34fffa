import Synchronization

/// What the shards of one pool share across loops: the global bounds every server counts against, what each
/// shard publishes for the others (idle servers, waiters and the oldest of them, servers stalled in
/// transactions), the servers each application holds, and the pool's login-retry pause.
///
/// All of it is counters and instants taken, given back and read with atomics; no lock is held while a shard
/// decides. (The one lock is `applicationHolds(_:)`'s, taken the first time a shard sees an application.)
public final class PoolShared: Sendable {
    /// What one shard publishes.
    public final class Signals: Sendable {
        /// Idle servers it could lend (or move) now.
        public let idle = Atomic<Int>(0)
        /// Clients waiting on it.
        public let waiting = Atomic<Int>(0)
        /// When its oldest waiter started waiting, in nanoseconds since `PoolShared.epoch`; `Int64.max` for none.
        public let oldestWaiter = Atomic<Int64>(.max)
        /// Its servers whose holders sit idle inside a transaction (for the pool-wide transaction gate).
        public let stalled = Atomic<Int>(0)
    }

    public let key: PoolKey
    /// pool_size: servers of this pool, on every loop.
    public let poolSize: SharedLimit
    /// reserve_pool_size: servers beyond pool_size, for waiters the reserve is for.
    public let reserve: SharedLimit
    /// The bounds shared with other pools: max_db_connections, max_user_connections, the host's budget.
    public let others: [SharedLimit]
    /// One per loop, by loop index.
    public let shards: [Signals]
    /// Reclaims marked and not yet back, pool-wide: the limit is set to how many are wanted before taking.
    public let reclaims = SharedLimit(name: "idle transaction reclaims", limit: 0)
    /// The instant published times count from.
    public let epoch: ContinuousClock.Instant
    private let loginRetryUntil = Atomic<Int64>(.min)
    private let applications = Mutex<[String: SharedLimit]>([:])

    public init(key: PoolKey, poolSize: Int, reserve: Int, others: [SharedLimit], loops: Int,
        epoch: ContinuousClock.Instant = .now)
    {
        self.key = key
        self.poolSize = SharedLimit(name: "pool_size", limit: poolSize)
        self.reserve = SharedLimit(name: "reserve_pool_size", limit: reserve)
        self.others = others
        self.shards = (0..<max(loops, 1)).map { _ in Signals() }
        self.epoch = epoch
    }

    /// Nanoseconds of `instant` since `epoch`, as published.
    @inline(__always)
    public func stamp(_ instant: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = (instant - epoch).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The bounds a server of this pool takes: from pool_size, or from the reserve, and always the others.
    public func bounds(reserve: Bool) -> [SharedLimit] {
        [reserve ? self.reserve : self.poolSize] + self.others
    }

    /// The counter of servers `application` holds in this pool, created on first use with `cap`
    /// (max_server_connections of its `[applications]` entry, or none).
    public func applicationHolds(_ application: String, cap: Int?) -> SharedLimit {
        applications.withLock { table in
            if let known = table[application] {
                known.setLimit(cap ?? .max)
                return known
            }
            let counter = SharedLimit(name: "servers held by \(application)", limit: cap ?? .max)
            table[application] = counter
            return counter
        }
    }

    // MARK: Across shards

    /// Servers stalled in transactions on every shard.
    public var stalledTotal: Int {
        shards.reduce(0) { $0 + $1.stalled.load(ordering: .relaxed) }
    }

    /// Clients waiting on every shard.
    public var waitingTotal: Int {
        shards.reduce(0) { $0 + $1.waiting.load(ordering: .relaxed) }
    }

    /// Idle servers on every shard.
    public var idleTotal: Int {
        shards.reduce(0) { $0 + $1.idle.load(ordering: .relaxed) }
    }

    /// The loop, other than `loop`, with the most idle servers; nil when none has one.
    public func idleElsewhere(than loop: Int) -> Int? {
        var best: Int?
        var most = 0
        for index in shards.indices where index != loop {
            let idle = shards[index].idle.load(ordering: .sequentiallyConsistent)
            if idle > most {
                most = idle
                best = index
            }
        }
        return best
    }

    /// The loop, other than `loop`, whose oldest waiter has waited longest, and when it started; nil when no
    /// other shard has waiters.
    public func oldestWaiterElsewhere(than loop: Int) -> (loop: Int, since: Int64)? {
        var best: (loop: Int, since: Int64)?
        for index in shards.indices where index != loop {
            let since = shards[index].oldestWaiter.load(ordering: .sequentiallyConsistent)
            if since != .max, since < (best?.since ?? .max) { best = (index, since) }
        }
        return best
    }

    // MARK: server_login_retry

    /// Opens are paused until `instant` after a failed login (every shard).
    public func pauseLogins(until instant: ContinuousClock.Instant) {
        loginRetryUntil.store(stamp(instant), ordering: .relaxed)
    }

    /// A login worked: servers may open again.
    public func resumeLogins() {
        loginRetryUntil.store(.min, ordering: .relaxed)
    }

    /// Whether opens are paused at `now`.
    public func loginsPaused(at now: ContinuousClock.Instant) -> Bool {
        stamp(now) < loginRetryUntil.load(ordering: .relaxed)
    }
}
