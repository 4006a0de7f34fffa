import Testing

@testable import SpillwayCore

/// server_login_retry and stale reports: the pool does not storm PostgreSQL nor trust late events.
@Suite struct PoolLoginRetryTests {
    let t0 = ContinuousClock.now
    let key = PoolKey(database: "app", user: "alice")

    private func makePool(retry: Duration = .seconds(15)) -> PoolStateMachine {
        let counter = Counter()
        return PoolStateMachine(
            key: key, limits: .init(poolSize: 4, loginRetry: retry), loops: 1, nextServer: { counter.next() })
    }

    private func tag(_ n: UInt64) -> ClientTag { ClientTag(client: ClientID(n), loop: 0, application: "app") }

    /// After a failed login the waiter is failed, new clients are refused at once during server_login_retry,
    /// and the first client after it opens a server again.
    @Test func failedLoginPausesOpeningForLoginRetry() {
        var pool = makePool()
        guard case .openAndWait(let s1, _) = pool.acquire(tag(1), now: t0, capacity: 10) else {
            Issue.record("expected an open")
            return
        }
        let loss = pool.serverLost(s1, loginFailed: true, now: t0 + .seconds(1), capacity: 10)
        #expect(loss.failed == [tag(1)])
        #expect(loss.open == nil)
        #expect(pool.acquire(tag(2), now: t0 + .seconds(5), capacity: 10) == .refuse)
        #expect(pool.maintain(now: t0 + .seconds(5), capacity: 10).open.isEmpty)
        guard case .openAndWait = pool.acquire(tag(3), now: t0 + .seconds(17), capacity: 10) else {
            Issue.record("no server opened after server_login_retry")
            return
        }
    }

    /// Waiters kept through a retry pause get a server from upkeep once the pause ends.
    @Test func upkeepOpensForWaitersAfterThePause() {
        var pool = makePool()
        guard case .openAndWait(let s1, _) = pool.acquire(tag(1), now: t0, capacity: 10),
              case .openAndWait(let s2, _) = pool.acquire(tag(2), now: t0, capacity: 10)
        else {
            Issue.record("expected two opens")
            return
        }
        _ = pool.serverLost(s1, loginFailed: true, now: t0, capacity: 10)  // s2 still coming: one waiter kept
        #expect(pool.waitingCount == 1)
        _ = pool.serverLost(s2, loginFailed: false, now: t0 + .seconds(1), capacity: 10)
        #expect(pool.maintain(now: t0 + .seconds(2), capacity: 10).open.isEmpty)
        #expect(pool.maintain(now: t0 + .seconds(16), capacity: 10).open.count == 1)
    }

    /// A release of a server that is not assigned, or a second ready report, changes nothing.
    @Test func staleReleaseAndReadyAreIgnored() {
        var pool = makePool(retry: .zero)
        guard case .openAndWait(let s1, _) = pool.acquire(tag(1), now: t0, capacity: 10) else { return }
        #expect(pool.serverReady(s1, now: t0) == .assign(s1, to: tag(1)))
        #expect(pool.serverReady(s1, now: t0) == .idle)
        #expect(pool.release(s1, needsReset: false, now: t0, capacity: 10) == .idle)
        #expect(pool.release(s1, needsReset: false, now: t0, capacity: 10) == .idle)
        #expect(pool.idleCount == 1, "a double release must not list the server twice")
        #expect(pool.acquire(tag(2), now: t0, capacity: 10) == .assign(s1))
        #expect(pool.acquire(tag(3), now: t0, capacity: 10) != .assign(s1))
    }
}

/// Hands out 1, 2, 3 … as server IDs.
private final class Counter: @unchecked Sendable {
    private var value: UInt64 = 0
    func next() -> ServerID {
        value += 1
        return ServerID(value)
    }
}

/// Loop affinity: a released server prefers a waiter on its own event loop, within a small window.
@Suite struct PoolLoopAffinityTests {
    let t0 = ContinuousClock.now

    private func tag(_ n: UInt64, loop: Int) -> ClientTag { ClientTag(client: ClientID(n), loop: loop, application: "a") }

    private func fullPool() -> (PoolStateMachine, ServerID) {
        let counter = Counter()
        var pool = PoolStateMachine(
            key: PoolKey(database: "app", user: "u"), limits: .init(poolSize: 1, loopAffinityWindow: .milliseconds(2)),
            loops: 2, nextServer: { counter.next() })
        guard case .openAndWait(let s1, _) = pool.acquire(tag(1, loop: 0), now: t0, capacity: 10) else {
            preconditionFailure("expected an open")
        }
        _ = pool.serverReady(s1, now: t0)
        return (pool, s1)
    }

    /// Waiters 1 ms apart: the server on loop 0 goes to the loop-0 waiter although the loop-1 waiter is older.
    @Test func releasedServerPrefersSameLoopWaiterWithinWindow() {
        var (pool, s1) = fullPool()
        _ = pool.acquire(tag(2, loop: 1), now: t0 + .milliseconds(10), capacity: 10)
        _ = pool.acquire(tag(3, loop: 0), now: t0 + .milliseconds(11), capacity: 10)
        #expect(pool.release(s1, needsReset: false, now: t0 + .milliseconds(12), capacity: 10) == .assign(s1, to: tag(3, loop: 0)))
    }

    /// Waiters 5 ms apart: the oldest waiter wins even on the other loop (fairness beats affinity).
    @Test func oldestWaiterWinsOutsideWindow() {
        var (pool, s1) = fullPool()
        _ = pool.acquire(tag(2, loop: 1), now: t0 + .milliseconds(10), capacity: 10)
        _ = pool.acquire(tag(3, loop: 0), now: t0 + .milliseconds(15), capacity: 10)
        #expect(pool.release(s1, needsReset: false, now: t0 + .milliseconds(16), capacity: 10) == .assign(s1, to: tag(2, loop: 1)))
    }

    /// query_wait_timeout: upkeep gives up waiters that waited that long, and only those.
    @Test func upkeepTimesOutLongWaiters() {
        let counter = Counter()
        var pool = PoolStateMachine(
            key: PoolKey(database: "app", user: "u"), limits: .init(poolSize: 0, queryWaitTimeout: .seconds(30)),
            loops: 1, nextServer: { counter.next() })
        _ = pool.acquire(tag(1, loop: 0), now: t0, capacity: 10)
        _ = pool.acquire(tag(2, loop: 0), now: t0 + .seconds(10), capacity: 10)
        #expect(pool.maintain(now: t0 + .seconds(29), capacity: 10).timedOut.isEmpty)
        #expect(pool.maintain(now: t0 + .seconds(30), capacity: 10).timedOut == [tag(1, loop: 0)])
        #expect(pool.waitingCount == 1)
        #expect(pool.maintain(now: t0 + .seconds(40), capacity: 10).timedOut == [tag(2, loop: 0)])
    }
}

/// PAUSE, RESUME and RECONNECT on the pure pool machine.
@Suite struct PoolOperatorTests {
    let t0 = ContinuousClock.now

    private func tag(_ n: UInt64) -> ClientTag { ClientTag(client: ClientID(n), loop: 0, application: "a") }

    private func poolWithOneServer() -> (PoolStateMachine, ServerID) {
        let counter = Counter()
        var pool = PoolStateMachine(
            key: PoolKey(database: "app", user: "u"), limits: .init(poolSize: 2), loops: 1, nextServer: { counter.next() })
        guard case .openAndWait(let s1, _) = pool.acquire(tag(1), now: t0, capacity: 10) else { preconditionFailure() }
        _ = pool.serverReady(s1, now: t0)
        return (pool, s1)
    }

    /// Paused: a new client waits although a server is idle; the pool is quiescent once the active one is back;
    /// RESUME hands the idle server to the waiter.
    @Test func pauseQueuesAndResumeHandsOut() {
        var (pool, s1) = poolWithOneServer()
        pool.pause()
        #expect(!pool.isQuiescent, "s1 is still lent to client 1")
        #expect(pool.release(s1, needsReset: false, now: t0, capacity: 10) == .idle)
        #expect(pool.isQuiescent)
        #expect(pool.acquire(tag(2), now: t0, capacity: 10) == .wait)
        #expect(pool.waitingCount == 1)
        let resumed = pool.resume(now: t0, capacity: 10)
        #expect(resumed.handoffs == [.assign(s1, to: tag(2))])
        #expect(resumed.open.isEmpty)
        #expect(pool.runState == .running)
    }

    /// RECONNECT closes idle servers now and servers in use when released.
    @Test func reconnectRetiresEveryServer() {
        var (pool, s1) = poolWithOneServer()
        guard case .openAndWait(let s2, _) = pool.acquire(tag(2), now: t0, capacity: 10) else {
            Issue.record("expected a second server")
            return
        }
        _ = pool.serverReady(s2, now: t0)
        #expect(pool.release(s2, needsReset: false, now: t0, capacity: 10) == .idle)
        #expect(pool.reconnect() == [s2])
        guard case .close(let closed, _) = pool.release(s1, needsReset: false, now: t0, capacity: 10) else {
            Issue.record("a server from before RECONNECT went back to the pool")
            return
        }
        #expect(closed == s1)
        #expect(pool.serverCount == 0)
    }
}
