import Benchmark
import Dispatch
import SpillwayEngine

// The shard hand-off on the engine: work posted from one loop to another with `IOLoop.execute`, and a server
// connection moving to the loop of the client that needs it with `Connection.move(to:arrived:)`. Two loops on two
// threads (an `IOLoopGroup`, started by each benchmark's setup); the benchmark thread starts a chain of hand-offs
// on the loops and sleeps on a semaphore until the chain ends, so one sample is `scaledIterations` hand-offs back
// to back and only the first post and the last signal involve the benchmark thread.

/// An `IOLoopGroup` of two loops, from a benchmark's setup to its teardown. Set and cleared by setup and teardown,
/// read by the measured closure in between.
private final class Loops: @unchecked Sendable {
    private var group: IOLoopGroup?
    /// The connection benchmark's shuttle, made by its setup.
    var shuttle: Shuttle?

    var loops: [IOLoop] { self.group!.loops }

    func start() throws {
        self.group = try IOLoopGroup(loops: 2)
    }

    func stop() {
        self.group?.shutdown()
        self.group = nil
    }
}

/// Posts a task from loop 0 to loop 1 that posts back to loop 0, `roundTrips` times, then wakes the caller.
private final class PingPong: @unchecked Sendable {
    private let home: IOLoop
    private let away: IOLoop
    /// Touched on `home` only (and by the caller before its first post, which `execute` orders before the task).
    private var remaining = 0
    private let finished = DispatchSemaphore(value: 0)

    init(home: IOLoop, away: IOLoop) {
        self.home = home
        self.away = away
    }

    /// Runs `roundTrips` round trips; returns when the last one is back on `home`.
    func run(roundTrips: Int) {
        self.remaining = roundTrips
        self.home.execute { self.serve() }
        self.finished.wait()
    }

    /// On `home`: sends the next round trip, or ends the chain.
    private func serve() {
        guard self.remaining > 0 else {
            self.finished.signal()
            return
        }
        self.remaining -= 1
        self.away.execute { self.home.execute { self.serve() } }
    }
}

/// One idle connection over a socket pair, moved between loop 0 and loop 1 `moves` times (an even number, so that
/// it is back on loop 0 for the next sample). The peer end is kept open and silent: the connection stays idle.
private final class Shuttle: @unchecked Sendable {
    private let loops: [IOLoop]
    private let peer: Socket
    /// Set on loop 0 by `init`; afterwards touched only on the loop that holds the connection.
    private var connection: Connection?
    /// Touched on the loop that holds the connection (and by the caller before its first post).
    private var remaining = 0
    private let finished = DispatchSemaphore(value: 0)

    init(loops: [IOLoop]) throws {
        self.loops = loops
        let (end, peer) = try Socket.pair()
        self.peer = peer
        loops[0].execute {
            self.connection = try! Connection(socket: end, loop: loops[0])
            self.finished.signal()
        }
        self.finished.wait()
    }

    /// Moves the connection `moves` times; returns when it has arrived back on loop 0.
    func run(moves: Int) {
        precondition(moves % 2 == 0, "an even number of moves ends on loop 0")
        self.remaining = moves
        self.loops[0].execute { self.hop(self.connection!) }
        self.finished.wait()
    }

    /// On the loop `connection` is on: moves it to the other loop, or ends the chain.
    private func hop(_ connection: Connection) {
        guard self.remaining > 0 else {
            self.finished.signal()
            return
        }
        self.remaining -= 1
        let target = connection.loop === self.loops[0] ? self.loops[1] : self.loops[0]
        let started = connection.move(to: target) { arrived in self.hop(arrived) }
        precondition(started, "an idle connection moves")
    }

    /// Closes both ends (the connection on loop 0, where `run` leaves it).
    func close() {
        self.loops[0].execute {
            self.connection?.abort()
            self.connection = nil
            self.finished.signal()
        }
        self.finished.wait()
        self.peer.close()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        // A hand-off to a sleeping loop takes tens of microseconds here, so a sample of 1,000 takes tens of
        // milliseconds: 5 seconds give 50 to 150 samples.
        maxDuration: .seconds(5),
        maxIterations: 2_000
    )
    Benchmark.defaultConfiguration.timeUnits = .nanoseconds

    // (a) A task posted from loop 0 to loop 1, which posts one back to loop 0: two `execute`s, each waking a loop
    // that waits in epoll_wait. One inner iteration = one round trip.
    let pingLoops = Loops()
    Benchmark(
        "IOLoop.execute round trip (loop 0 → loop 1 → loop 0)",
        configuration: .init(setup: { try pingLoops.start() }, teardown: { pingLoops.stop() })
    ) { benchmark in
        let pingPong = PingPong(home: pingLoops.loops[0], away: pingLoops.loops[1])
        benchmark.startMeasurement()
        pingPong.run(roundTrips: benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
    }

    // (b) An idle connection moved from loop 0 to loop 1 and back: each move leaves one epoll set, is posted to the
    // other loop with `execute`, and joins that loop's epoll set, where `arrived` sends it on. One inner iteration =
    // one move (a round trip is two).
    let moveLoops = Loops()
    Benchmark(
        "Connection.move idle connection (loop 0 ⇄ loop 1)",
        configuration: .init(
            setup: {
                try moveLoops.start()
                moveLoops.shuttle = try Shuttle(loops: moveLoops.loops)
            },
            teardown: {
                moveLoops.shuttle?.close()
                moveLoops.shuttle = nil
                moveLoops.stop()
            }
        )
    ) { benchmark in
        let shuttle = moveLoops.shuttle!
        benchmark.startMeasurement()
        shuttle.run(moves: benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
    }
}
