import Benchmark
import PostgresWire
import SpillwayCore

// ClientSession as ClientConnection drives it: `clientMessage` for every frame the client sends (type byte
// only), `readyForQuery` for every ReadyForQuery the server answers with.

private let query = UInt8(ascii: "Q")
/// An extended-protocol batch as drivers send it for a prepared statement: Parse, Bind, Describe, Execute, Sync.
private let extendedBatch: [UInt8] = ["P", "B", "D", "E", "S"].map { UInt8(ascii: $0) }
private let server = ServerID(1)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 2_000
    )
    Benchmark.defaultConfiguration.timeUnits = .nanoseconds

    // Transaction mode, the full cycle per query: the client is idle, its Query is held while the pool assigns
    // a server, the held Query is forwarded, ReadyForQuery 'I' releases the server.
    // One inner iteration = one cycle.
    Benchmark("transaction mode: Q → acquire → Z(I) → release") { benchmark in
        var session = ClientSession(mode: .transaction)
        var now = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            now += .microseconds(10)
            guard case .holdAndAcquire = session.clientMessage(query, now: now) else { fatalError("expected hold") }
            session.serverAssigned(server)
            session.heldMessageForwarded(query)
            guard case .forwardAndRelease = session.readyForQuery(.idle) else { fatalError("expected release") }
        }
    }

    Benchmark("transaction mode: P/B/D/E/S → acquire → Z(I) → release") { benchmark in
        var session = ClientSession(mode: .transaction)
        var now = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            now += .microseconds(10)
            guard case .holdAndAcquire = session.clientMessage(extendedBatch[0], now: now) else {
                fatalError("expected hold and acquire")
            }
            for type in extendedBatch.dropFirst() {
                guard case .hold = session.clientMessage(type, now: now) else { fatalError("expected hold") }
            }
            session.serverAssigned(server)
            for type in extendedBatch { session.heldMessageForwarded(type) }
            guard case .forwardAndRelease = session.readyForQuery(.idle) else { fatalError("expected release") }
        }
    }

    // Linked (session mode, or inside a transaction): every message is forwarded and ReadyForQuery keeps the
    // server; the bookkeeping the forwarding path does per frame.
    Benchmark("linked: Q → Z(I)") { benchmark in
        var session = ClientSession.linked(to: server, mode: .session)
        var now = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            now += .microseconds(10)
            guard case .forward = session.clientMessage(query, now: now) else { fatalError("expected forward") }
            guard case .forward = session.readyForQuery(.idle) else { fatalError("expected forward") }
        }
    }

    Benchmark("linked: P/B/D/E/S → Z(I)") { benchmark in
        var session = ClientSession.linked(to: server, mode: .session)
        var now = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            now += .microseconds(10)
            for type in extendedBatch {
                guard case .forward = session.clientMessage(type, now: now) else { fatalError("expected forward") }
            }
            guard case .forward = session.readyForQuery(.idle) else { fatalError("expected forward") }
        }
    }
}
