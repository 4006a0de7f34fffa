import Testing
@testable import SpillwayCore

/// A client and its server on one event loop forward without crossing threads; a handover across loops costs
/// more CPU than the rest of a short transaction. These tests pin the rules that keep handovers on one loop
/// while bounding how long a client on another loop can be passed over.
@Suite struct LoopAffinityTests {
    let t0 = ContinuousClock.now
    let window = Duration.milliseconds(2)

    func pool(size: Int = 4) -> PoolStateMachine {
        makePool(.init(poolSize: size, loopAffinityWindow: window), loops: 2)
    }

    /// The queue gives a released server to a waiter on its loop even when an older one waits on another loop;
    /// with nobody on its loop it gives nothing until the oldest has waited the window, then the oldest.
    @Test func popOnLoopPrefersTheLoopThenTheOldestAfterTheWindow() {
        var queue = WaitQueue()
        queue.append(tag(1, loop: 0), since: t0)
        queue.append(tag(2, loop: 1), since: t0 + .milliseconds(1))
        #expect(queue.popOnLoop(1, within: window, now: t0 + .milliseconds(1))?.tag.client == c(2))
        #expect(queue.popOnLoop(1, within: window, now: t0 + .milliseconds(1)) == nil)
        #expect(queue.count == 1)
        #expect(queue.popOnLoop(1, within: window, now: t0 + window)?.tag.client == c(1))
        #expect(queue.isEmpty)
    }

    /// Standing still comes first: a proven waiter on another loop is not passed over for a suspect on this one.
    @Test func popOnLoopKeepsStandingOrder() {
        var queue = WaitQueue()
        queue.append(tag(1, loop: 1, standing: .suspect), since: t0)
        queue.append(tag(2, loop: 0, standing: .proven), since: t0)
        #expect(queue.popOnLoop(1, within: window, now: t0) == nil)
        #expect(queue.popOnLoop(0, within: window, now: t0)?.tag.client == c(2))
        #expect(queue.popOnLoop(1, within: window, now: t0)?.tag.client == c(1))
    }

    /// A server released on loop 1 while only a young waiter on loop 0 waits stays idle on loop 1 (the pool says
    /// a run across loops is due); after the window `serveAcrossLoops` hands it over.
    @Test func releasedServerWaitsForItsLoopThenCrosses() {
        var pool = pool(size: 1)
        let holder = tag(1, loop: 1)
        let server = hold(holder, in: &pool, now: t0)
        #expect(pool.acquire(tag(2, loop: 0), now: t0, capacity: 100) == .wait)
        #expect(pool.release(server, needsReset: false, now: t0 + .microseconds(100), capacity: 100) == .idle)
        #expect(pool.hasIdleWhileWaiting)
        #expect(pool.serveAcrossLoops(now: t0 + .milliseconds(1)).isEmpty)
        #expect(pool.acrossLoopsRetry(now: t0 + .milliseconds(1)) == .milliseconds(1))
        #expect(pool.serveAcrossLoops(now: t0 + window) == [.assign(server, to: tag(2, loop: 0))])
        #expect(!pool.hasIdleWhileWaiting)
        #expect(pool.acrossLoopsRetry(now: t0 + window) == nil)
    }

    /// A waiter that already waited the window takes a server released on another loop at once.
    @Test func oldWaiterCrossesAtOnce() {
        var pool = pool(size: 1)
        let server = hold(tag(1, loop: 1), in: &pool, now: t0)
        #expect(pool.acquire(tag(2, loop: 0), now: t0, capacity: 100) == .wait)
        #expect(pool.release(server, needsReset: false, now: t0 + window, capacity: 100)
            == .assign(server, to: tag(2, loop: 0)))
    }

    /// A server released on loop 1 goes to the waiter on loop 1, not the older one on loop 0.
    @Test func releaseServesItsOwnLoopFirst() {
        var pool = pool(size: 1)
        let server = hold(tag(1, loop: 1), in: &pool, now: t0)
        #expect(pool.acquire(tag(2, loop: 0), now: t0, capacity: 100) == .wait)
        #expect(pool.acquire(tag(3, loop: 1), now: t0 + .microseconds(10), capacity: 100) == .wait)
        #expect(pool.release(server, needsReset: false, now: t0 + .microseconds(20), capacity: 100)
            == .assign(server, to: tag(3, loop: 1)))
    }

    /// A waiter on the server's loop that came more than the window after the oldest does not pass it: the
    /// oldest is served across loops (the window bounds how long anyone is passed over).
    @Test func windowBoundsHowLongTheOldestIsPassedOver() {
        var queue = WaitQueue()
        queue.append(tag(1, loop: 0), since: t0)
        queue.append(tag(2, loop: 1), since: t0 + .milliseconds(3))
        #expect(queue.popOnLoop(1, within: window, now: t0 + .milliseconds(3))?.tag.client == c(1))
    }

    /// A newcomer on the loop of a server kept idle for others takes it: it is served on its own loop.
    @Test func newcomerOnTheServersLoopTakesTheKeptServer() {
        var pool = pool(size: 1)
        let server = hold(tag(1, loop: 1), in: &pool, now: t0)
        #expect(pool.acquire(tag(2, loop: 0), now: t0, capacity: 100) == .wait)
        #expect(pool.release(server, needsReset: false, now: t0 + .microseconds(100), capacity: 100) == .idle)
        #expect(pool.acquire(tag(3, loop: 1), now: t0 + .microseconds(300), capacity: 100) == .assign(server))
        #expect(!pool.hasIdleWhileWaiting)
    }

    /// With nobody waiting, a client still takes an idle server from another loop rather than wait.
    @Test func idleServerOnAnotherLoopServesWhenNobodyWaits() {
        var pool = pool(size: 1)
        let server = hold(tag(1, loop: 1), in: &pool, now: t0)
        #expect(pool.release(server, needsReset: false, now: t0, capacity: 100) == .idle)
        #expect(!pool.hasIdleWhileWaiting)
        #expect(pool.acquire(tag(2, loop: 0), now: t0, capacity: 100) == .assign(server))
    }

    /// New servers spread over the loops like clients do: once a loop has its half of the pool, the next server
    /// opens on the other loop even if the client asking is on the full one.
    @Test func newServersSpreadOverLoops() {
        var pool = pool(size: 4)
        var loops: [Int] = []
        for n in 1...4 {
            guard case .openAndWait(_, let loop) = pool.acquire(tag(UInt64(n), loop: 0), now: t0, capacity: 100) else {
                Issue.record("client \(n) did not get a new server")
                return
            }
            loops.append(loop)
        }
        #expect(loops == [0, 0, 1, 1])
    }
}

/// The executor skips working out a pool's capacity (a walk over every pool of the host) when the pool will
/// not use it; these pin when that is.
@Suite struct CapacityNeedTests {
    let t0 = ContinuousClock.now

    /// An idle server serves the next client without the capacity; with none idle the pool may open one and
    /// needs it; with application caps the idle server might be refused, so it is needed too.
    @Test func acquireNeedsCapacityOnlyWhenItMayOpen() {
        var pool = makePool(.init(poolSize: 2))
        #expect(!pool.acquireIgnoresCapacity)
        let server = hold(tag(1), in: &pool, now: t0)
        #expect(!pool.acquireIgnoresCapacity)
        #expect(pool.release(server, needsReset: false, now: t0, capacity: 10) == .idle)
        #expect(pool.acquireIgnoresCapacity)

        var capped = makePool(.init(poolSize: 2, applications: ["batch": .init(maxServerConnections: 1)]))
        let other = hold(tag(2), in: &capped, now: t0)
        #expect(capped.release(other, needsReset: false, now: t0, capacity: 10) == .idle)
        #expect(!capped.acquireIgnoresCapacity)

        var paused = makePool(.init(poolSize: 2))
        paused.pause()
        #expect(paused.acquireIgnoresCapacity)
    }

    /// A release reuses the server unless it is not reusable, past server_lifetime, or from before RECONNECT:
    /// only then may it open a replacement and need the capacity.
    @Test func releaseNeedsCapacityOnlyWhenTheServerCloses() {
        var pool = makePool(.init(poolSize: 2, lifetime: .seconds(60)))
        let server = hold(tag(1), in: &pool, now: t0)
        #expect(!pool.releaseNeedsCapacity(server, reusable: true, now: t0 + .seconds(1)))
        #expect(pool.releaseNeedsCapacity(server, reusable: false, now: t0 + .seconds(1)))
        #expect(pool.releaseNeedsCapacity(server, reusable: true, now: t0 + .seconds(61)))
        #expect(!pool.releaseNeedsCapacity(ServerID(99), reusable: false, now: t0))
        _ = pool.reconnect()
        #expect(pool.releaseNeedsCapacity(server, reusable: true, now: t0 + .seconds(1)))
    }
}
