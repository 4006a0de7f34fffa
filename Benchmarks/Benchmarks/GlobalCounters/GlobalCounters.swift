import Benchmark
import Foundation
import SpillwayCore
import Synchronization

// SharedLimit and ServerClaim as pool shards use them: a shard takes a claim on every bound a new server counts
// against (pool, database, user, host) before it opens the server, and gives it back when the server is gone.

/// The four bounds of one server of pool (pgbench, pgbench) on one host, each far from full.
private func serverBounds() -> [SharedLimit] {
    [
        SharedLimit(name: "pool_size", limit: 20),
        SharedLimit(name: "max_db_connections", limit: 100),
        SharedLimit(name: "max_user_connections", limit: 100),
        SharedLimit(name: "host", limit: 1_000),
    ]
}

/// A second thread on one `SharedLimit`: from `start()` to `stop()` it spins on its own core, and each time
/// `begin(_:)` is called it does that many tryTake + giveBack pairs on the limit, while the calling thread does its
/// own. The spin between rounds reads only `round`, never the limit, so the two threads meet on the counter only
/// while both are measured.
private final class Rival: Sendable {
    let limit: SharedLimit
    /// The round asked for; -1 stops the thread.
    private let round = Atomic<Int>(0)
    /// The last round finished; -1 once the thread has stopped.
    private let finished = Atomic<Int>(0)
    /// Pairs per round, written before `round` is advanced.
    private let pairs = Atomic<Int>(0)

    init(_ limit: SharedLimit) { self.limit = limit }

    func start() {
        Thread.detachNewThread { [self] in self.serve() }
    }

    private func serve() {
        var done = 0
        while true {
            var next = self.round.load(ordering: .acquiring)
            while next == done { next = self.round.load(ordering: .acquiring) }
            guard next > 0 else { break }
            for _ in 0..<self.pairs.load(ordering: .relaxed) {
                guard self.limit.tryTake() else { fatalError("the rival found the limit full") }
                self.limit.giveBack()
            }
            done = next
            self.finished.store(done, ordering: .releasing)
        }
        self.finished.store(-1, ordering: .releasing)
    }

    /// Lets the rival start a round of `count` pairs; returns the round to `join`.
    func begin(_ count: Int) -> Int {
        self.pairs.store(count, ordering: .relaxed)
        return self.round.add(1, ordering: .releasing).newValue
    }

    /// Waits for the rival to finish `round`.
    func join(_ round: Int) {
        while self.finished.load(ordering: .acquiring) != round {}
    }

    /// Ends the thread and waits for it.
    func stop() {
        self.round.store(-1, ordering: .releasing)
        while self.finished.load(ordering: .acquiring) != -1 { sched_yield() }
    }
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

    // (a) One bound, one thread: the cost of the compare-and-swap and the subtract when nobody else touches the
    // counter. One inner iteration = one tryTake + one giveBack.
    Benchmark("SharedLimit tryTake + giveBack (uncontended)") { benchmark in
        let limit = SharedLimit(name: "pool_size", limit: 20)
        for _ in benchmark.scaledIterations {
            guard limit.tryTake() else { fatalError("expected room") }
            limit.giveBack()
        }
        precondition(limit.used == 0)
    }

    // (b) What a shard does before opening a server and after closing one: take all four bounds in order, give
    // them back in reverse. One inner iteration = one granted take + one giveBack.
    Benchmark("ServerClaim take 4 bounds + giveBack") { benchmark in
        let bounds = serverBounds()
        for _ in benchmark.scaledIterations {
            guard case .granted(let claim) = ServerClaim.take(bounds) else { fatalError("expected a grant") }
            claim.giveBack()
        }
        precondition(bounds.allSatisfy { $0.used == 0 })
    }

    // (c) The user's bound is full: the pool and database bounds are taken, the third refuses, the two taken are
    // given back. One inner iteration = one refused take.
    Benchmark("ServerClaim take refused by the 3rd bound") { benchmark in
        let bounds = serverBounds()
        let user = bounds[2]
        user.setLimit(1)
        guard user.tryTake() else { fatalError("setup: expected room") }
        for _ in benchmark.scaledIterations {
            guard case .refused(let by) = ServerClaim.take(bounds) else { fatalError("expected a refusal") }
            blackHole(by)
        }
        precondition(bounds[0].used == 0 && bounds[1].used == 0 && user.used == 1 && bounds[3].used == 0)
    }

    // (d) Two threads on the same counter: the benchmark thread and a rival thread (started by setup, spinning on the
    // other core) each do `scaledIterations` tryTake + giveBack pairs on one limit at the same time; a sample ends
    // when both are done. One inner iteration = one pair on each thread, so the time is what one pair costs a thread
    // while another thread hammers the same counter (the two together do twice the throughput shown).
    let contended = Rival(SharedLimit(name: "pool_size", limit: 20))
    Benchmark(
        "SharedLimit tryTake + giveBack (2 threads, same limit)",
        configuration: .init(setup: { contended.start() }, teardown: { contended.stop() })
    ) { benchmark in
        let limit = contended.limit
        let round = contended.begin(benchmark.scaledIterations.count)
        for _ in benchmark.scaledIterations {
            guard limit.tryTake() else { fatalError("expected room") }
            limit.giveBack()
        }
        contended.join(round)
        precondition(limit.used == 0)
    }
}
