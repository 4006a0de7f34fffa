@testable import SpillwayCore

// Builders shared by the pool state machine's tests: every test starts from a named pool and names its
// servers s1, s2 … in the order the pool opens them.

/// Hands out s1, s2, s3 … so tests can name the servers a pool will open.
final class ServerIDSource: @unchecked Sendable {
    private var next: UInt64 = 1
    func callAsFunction() -> ServerID {
        defer { next += 1 }
        return ServerID(next)
    }
}

/// A pool for `orders/app` on `loops` event loops whose servers are numbered from s1.
func makePool(_ limits: PoolStateMachine.Limits, loops: Int = 2) -> PoolStateMachine {
    let ids = ServerIDSource()
    return PoolStateMachine(key: PoolKey(database: "orders", user: "app"), limits: limits, loops: loops) { ids() }
}

/// Client `n` of application `app` on event loop `loop`, with `standing`.
func tag(_ n: UInt64, app: String = "web", loop: Int = 0, standing: Standing = .new) -> ClientTag {
    ClientTag(client: ClientID(n), loop: loop, application: app, standing: standing)
}

/// Gives `tag` a newly opened server of `pool` (test builder: start mid-story); returns it.
func hold(_ tag: ClientTag, in pool: inout PoolStateMachine, now: ContinuousClock.Instant) -> ServerID {
    guard case .openAndWait(let id, _) = pool.acquire(tag, now: now, capacity: 100) else {
        preconditionFailure("hold needs room in the pool")
    }
    precondition(pool.serverReady(id, now: now) == .assign(id, to: tag))
    return id
}

func s(_ n: UInt64) -> ServerID { ServerID(n) }
func c(_ n: UInt64) -> ClientID { ClientID(n) }

/// SplitMix64: a small seeded generator so random tests replay.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
