import Benchmark
import SpillwayCore

// PoolStateMachine as PoolExecutor drives it: `acquire` when a client needs a server, `release` when its
// transaction ends. A pool of 20 servers on 2 event loops, default limits (loopAffinityWindow 2 ms).

/// Hands out server IDs 1, 2, 3 ... (the machine runs on one thread here).
private final class ServerIDs: @unchecked Sendable {
    private var next: UInt64 = 0
    func make() -> ServerID {
        next += 1
        return ServerID(next)
    }
}

private let poolSize = 20
private let loops = 2
/// Large enough never to limit: max_db_connections / max_user_connections are not under test.
private let capacity = 10_000

private func tag(_ client: Int) -> ClientTag {
    ClientTag(client: ClientID(UInt64(client)), loop: client % loops, application: "pgbench")
}

/// A pool whose 20 servers are open and held by clients 0..<20 (10 per loop); `now` advanced past the setup.
private func poolWithActiveServers(now: inout ContinuousClock.Instant) -> (PoolStateMachine, holders: [ServerID: ClientTag]) {
    let ids = ServerIDs()
    var pool = PoolStateMachine(
        key: PoolKey(database: "pgbench", user: "pgbench"), limits: .init(poolSize: poolSize), loops: loops,
        nextServer: { ids.make() })
    var holders: [ServerID: ClientTag] = [:]
    for client in 0..<poolSize {
        now += .microseconds(10)
        guard case .openAndWait(let id, _) = pool.acquire(tag(client), now: now, capacity: capacity) else {
            fatalError("setup: expected a new server for client \(client)")
        }
        now += .microseconds(10)
        guard case .assign(id, let to) = pool.serverReady(id, now: now) else {
            fatalError("setup: expected the new server to go to a waiter")
        }
        holders[id] = to
    }
    return (pool, holders)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 2_000
    )
    Benchmark.defaultConfiguration.timeUnits = .nanoseconds

    // Steady state: a client acquires (an idle server on its loop is there) and releases it clean.
    // One inner iteration = one acquire + one release.
    Benchmark("acquire idle + release (20 servers, 2 loops)") { benchmark in
        var now = ContinuousClock.now
        var (pool, holders) = poolWithActiveServers(now: &now)
        for (id, _) in holders {
            now += .microseconds(10)
            guard case .idle = pool.release(id, needsReset: false, now: now, capacity: capacity) else {
                fatalError("setup: expected the released server to go idle")
            }
        }
        precondition(pool.idleCount == poolSize)
        holders = [:]
        var client = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            now += .microseconds(5)
            let asking = tag(client)
            client = (client + 1) % 100
            guard case .assign(let id) = pool.acquire(asking, now: now, capacity: capacity) else {
                fatalError("expected an idle server")
            }
            now += .microseconds(5)
            blackHole(pool.release(id, needsReset: false, now: now, capacity: capacity))
        }
        benchmark.stopMeasurement()
        precondition(pool.idleCount == poolSize)
    }

    // Saturated: all 20 servers busy, 500 clients waiting. The holder of the longest-held server releases it;
    // the pool hands it to the oldest waiter (or one on the server's loop within loopAffinityWindow); the
    // releasing client sends its next query at once and joins the back of the queue.
    // One inner iteration = one release (with handoff) + one acquire (waits).
    Benchmark("release→handoff + acquire→wait (20 servers, 500 waiting)") { benchmark in
        var now = ContinuousClock.now
        var (pool, holders) = poolWithActiveServers(now: &now)
        for client in poolSize..<(poolSize + 500) {
            now += .microseconds(10)
            guard case .wait = pool.acquire(tag(client), now: now, capacity: capacity) else {
                fatalError("setup: expected client \(client) to wait")
            }
        }
        precondition(pool.waitingCount == 500)
        // Servers in the order they were assigned, with their holders: released oldest first.
        let order = holders.keys.sorted()
        var holder = order.map { holders[$0]! }
        holders = [:]
        var next = 0
        // Two turns of the queue before measuring, so that its storage has reached its steady-state size.
        let warmup = 1_000
        for iteration in 0..<(warmup + benchmark.scaledIterations.count) {
            if iteration == warmup { benchmark.startMeasurement() }
            now += .microseconds(5)
            let server = order[next]
            guard case .assign(server, let waiter) = pool.release(server, needsReset: false, now: now, capacity: capacity)
            else { fatalError("expected a handoff to a waiter") }
            now += .microseconds(5)
            guard case .wait = pool.acquire(holder[next], now: now, capacity: capacity) else {
                fatalError("expected the client to wait")
            }
            holder[next] = waiter
            next = (next + 1) % poolSize
        }
        benchmark.stopMeasurement()
        precondition(pool.waitingCount == 500)
    }
}
