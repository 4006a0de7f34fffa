import Testing
@testable import SpillwayCore

/// Proven clients go before new ones, but only for `WaitQueue.newcomerGrace`: a client that connects to a
/// saturated pool must not wait as long as proven clients keep the queue busy (under pgbench -c 500 that was
/// most of the run for 429 of the 500 clients).
@Suite struct NewcomerGraceTests {
    let t0 = ContinuousClock.now
    let grace = WaitQueue.newcomerGrace

    /// Within the grace a younger proven client goes first; past it the new client does (it is older).
    @Test func newClientRanksAsProvenAfterTheGrace() {
        var queue = WaitQueue()
        queue.append(tag(1, standing: .new), since: t0)
        queue.append(tag(2, standing: .proven), since: t0 + .milliseconds(1))
        #expect(queue.popNext(preferring: 0, within: .zero, now: t0 + .milliseconds(50))?.tag.client == c(2))

        var aged = WaitQueue()
        aged.append(tag(1, standing: .new), since: t0)
        aged.append(tag(2, standing: .proven), since: t0 + .milliseconds(1))
        #expect(aged.popNext(preferring: 0, within: .zero, now: t0 + grace)?.tag.client == c(1))
    }

    /// The same on the event-loop path the pools use with several loops.
    @Test func popOnLoopHonoursTheGrace() {
        var queue = WaitQueue()
        queue.append(tag(1, loop: 0, standing: .new), since: t0)
        queue.append(tag(2, loop: 0, standing: .proven), since: t0 + .milliseconds(1))
        #expect(queue.popOnLoop(0, within: .milliseconds(2), now: t0 + .milliseconds(10))?.tag.client == c(2))
        queue.append(tag(3, loop: 0, standing: .proven), since: t0 + .milliseconds(200))
        #expect(queue.popOnLoop(0, within: .milliseconds(2), now: t0 + .milliseconds(201))?.tag.client == c(1))
    }

    /// Habitual idlers get no grace: a suspect waits while anyone better waits, however long.
    @Test func suspectsDoNotAge() {
        var queue = WaitQueue()
        queue.append(tag(1, standing: .suspect), since: t0)
        queue.append(tag(2, standing: .new), since: t0 + .seconds(5))
        queue.append(tag(3, standing: .proven), since: t0 + .seconds(9))
        let now = t0 + .seconds(10)
        #expect(queue.popNext(preferring: 0, within: .zero, now: now)?.tag.client == c(2))
        #expect(queue.popNext(preferring: 0, within: .zero, now: now)?.tag.client == c(3))
        #expect(queue.popNext(preferring: 0, within: .zero, now: now)?.tag.client == c(1))
    }

    /// A saturated pool whose proven clients keep coming back: a new client still gets the next server once it
    /// has waited the grace.
    @Test func newClientIsServedInASaturatedPool() {
        var pool = makePool(.init(poolSize: 1), loops: 1)
        let server = hold(tag(1, standing: .proven), in: &pool, now: t0)
        #expect(pool.acquire(tag(2, standing: .new), now: t0, capacity: 0) == .wait)
        var now = t0
        var servedNewcomer = false
        for n in 3...200 {
            // The holder releases and a fresh proven client is already waiting: the usual saturated turn.
            #expect(pool.acquire(tag(UInt64(n), standing: .proven), now: now, capacity: 0) == .wait)
            now = now + .milliseconds(5)
            guard case .assign(_, let next) = pool.release(server, needsReset: false, now: now, capacity: 0) else {
                Issue.record("release did not hand the server over")
                return
            }
            if next.client == c(2) {
                servedNewcomer = true
                #expect(now - t0 >= grace)
                #expect(now - t0 <= grace + .milliseconds(10))
                break
            }
        }
        #expect(servedNewcomer)
    }
}
