import Testing

@testable import SpillwayCore

/// Client `n` on event loop `loop`.
private func client(_ n: UInt64, loop: Int = 0) -> ClientTag {
    ClientTag(client: ClientID(n), loop: loop, application: "app\(n)")
}

private func server(_ n: UInt64) -> ServerID { ServerID(n) }

extension PoolStateMachine {
    /// A pool with one server idle since `now` on each loop listed in `idleOn`, opened in that order as s1, s2 …
    /// (test builder: start mid-story). Passing clients numbered from 900 opened them.
    fileprivate static func withIdleServers(
        _ limits: Limits, idleOn loops: [Int], now: ContinuousClock.Instant
    ) -> (PoolStateMachine, [ServerID]) {
        var pool = makePool(limits, loops: max(2, (loops.max() ?? 0) + 1))
        var ids: [ServerID] = []
        for (n, loop) in loops.enumerated() {
            guard case .openAndWait(let id, _) = pool.acquire(client(900 + UInt64(n), loop: loop), now: now, capacity: 10)
            else { preconditionFailure("withIdleServers needs pool_size >= \(loops.count)") }
            ids.append(id)
        }
        for id in ids { _ = pool.serverReady(id, now: now) }
        for id in ids { _ = pool.release(id, needsReset: false, now: now, capacity: 10) }
        precondition(pool.idleCount == loops.count)
        return (pool, ids)
    }
}

@Suite struct PoolStateMachineTests {
    let t0 = ContinuousClock.now

    // MARK: Acquire

    /// An idle server on the client's own loop is assigned at once.
    @Test func acquireAssignsIdleServerOnSameLoop() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 2), idleOn: [0], now: t0)
        let s1 = ids[0]
        #expect(pool.idleCount == 1)

        #expect(pool.acquire(client(1, loop: 0), now: t0 + .seconds(1), capacity: 10) == .assign(s1))
        #expect(pool.idleCount == 0)
        #expect(pool.activeCount == 1)
        #expect(pool.waitingCount == 0)
        #expect(pool.serverCount == 1)
        #expect(pool.servers[s1]?.state == .active(ClientID(1)))
    }

    /// With idle servers on two loops, the client gets the one on its own loop; the other loop's server is
    /// used only when its own loop has none left.
    @Test func acquirePrefersIdleServerOnClientsLoop() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 3), idleOn: [0, 1], now: t0)
        let (onLoop0, onLoop1) = (ids[0], ids[1])
        #expect(pool.servers[onLoop0]?.loop == 0)
        #expect(pool.servers[onLoop1]?.loop == 1)
        #expect(pool.idleCount == 2)

        #expect(pool.acquire(client(1, loop: 1), now: t0, capacity: 10) == .assign(onLoop1))
        #expect(pool.acquire(client(2, loop: 1), now: t0, capacity: 10) == .assign(onLoop0))
        #expect(pool.idleCount == 0)
        #expect(pool.activeCount == 2)
    }

    /// No idle server and room in the pool: the client waits and a server is opened on its loop; the first
    /// server ready goes to the oldest waiter, the next to the next.
    @Test func acquireOpensServerAndServerReadyAssignsOldestWaiter() {
        var pool = makePool(.init(poolSize: 2))
        let c1 = client(1, loop: 0)
        let c2 = client(2, loop: 1)

        #expect(pool.acquire(c1, now: t0, capacity: 10) == .openAndWait(server(1), loop: 0))
        #expect(pool.waitingCount == 1)
        #expect(pool.connectingCount == 1)
        #expect(pool.idleCount == 0)
        #expect(pool.activeCount == 0)

        #expect(pool.acquire(c2, now: t0 + .seconds(1), capacity: 10) == .openAndWait(server(2), loop: 1))
        #expect(pool.waitingCount == 2)
        #expect(pool.connectingCount == 2)

        // s2 logs in first: it still goes to c1, who asked first.
        #expect(pool.serverReady(server(2), now: t0 + .seconds(2)) == .assign(server(2), to: c1))
        #expect(pool.waitingCount == 1)
        #expect(pool.activeCount == 1)
        #expect(pool.connectingCount == 1)

        #expect(pool.serverReady(server(1), now: t0 + .seconds(3)) == .assign(server(1), to: c2))
        #expect(pool.waitingCount == 0)
        #expect(pool.activeCount == 2)
        #expect(pool.connectingCount == 0)
    }

    /// A server already on its way is enough for one waiter: a second client waits without opening a
    /// second server only when the pool is full.
    @Test func acquireOnFullPoolWaits() {
        var pool = makePool(.init(poolSize: 1))
        #expect(pool.acquire(client(1), now: t0, capacity: 10) == .openAndWait(server(1), loop: 0))
        #expect(pool.acquire(client(2), now: t0, capacity: 10) == .wait)
        #expect(pool.serverCount == 1)
        #expect(pool.waitingCount == 2)

        #expect(pool.serverReady(server(1), now: t0) == .assign(server(1), to: client(1)))
        #expect(pool.acquire(client(3), now: t0, capacity: 10) == .wait)
        #expect(pool.serverCount == 1)
        #expect(pool.activeCount == 1)
        #expect(pool.waitingCount == 2)
    }

    /// Other budgets (max_db_connections, max_user_connections) leave no room: the client waits, nothing opens.
    @Test func acquireWithZeroCapacityWaitsWithoutOpening() {
        var pool = makePool(.init(poolSize: 5))
        #expect(pool.acquire(client(1), now: t0, capacity: 0) == .wait)
        #expect(pool.serverCount == 0)
        #expect(pool.connectingCount == 0)
        #expect(pool.waitingCount == 1)
    }

    /// A waiter already covered by a connecting server does not open another one.
    @Test func acquireDoesNotOpenMoreServersThanWaiters() {
        var pool = makePool(.init(poolSize: 5))
        #expect(pool.acquire(client(1), now: t0, capacity: 10) == .openAndWait(server(1), loop: 0))
        let cancelled = pool.cancelWait(ClientID(1))
        #expect(cancelled)
        // One server is connecting and one client waits: no second server.
        #expect(pool.acquire(client(2), now: t0, capacity: 10) == .wait)
        #expect(pool.serverCount == 1)
        #expect(pool.serverReady(server(1), now: t0) == .assign(server(1), to: client(2)))
    }

    // MARK: Release

    /// Several clients wait on a one-server pool: each release hands the server to the oldest waiter.
    @Test func releaseHandsOffToWaitersInFIFOOrder() {
        var pool = makePool(.init(poolSize: 1))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)
        for n in 2...4 {
            #expect(pool.acquire(client(UInt64(n), loop: n % 2), now: t0 + .seconds(n), capacity: 10) == .wait)
        }
        #expect(pool.waitingCount == 3)
        #expect(pool.waiters.waiting.map(\.tag.client) == [ClientID(2), ClientID(3), ClientID(4)])

        for n in 2...4 {
            let action = pool.release(server(1), needsReset: false, now: t0 + .seconds(10 + n), capacity: 10)
            #expect(action == .assign(server(1), to: client(UInt64(n), loop: n % 2)))
            #expect(pool.activeCount == 1)
            #expect(pool.waitingCount == 4 - n)
            #expect(pool.servers[server(1)]?.state == .active(ClientID(UInt64(n))))
        }
        #expect(pool.release(server(1), needsReset: false, now: t0 + .seconds(20), capacity: 10) == .idle)
        #expect(pool.idleCount == 1)
        #expect(pool.activeCount == 0)
        #expect(pool.servers[server(1)]?.state == .idle(since: t0 + .seconds(20)))
    }

    /// A server released dirty is reset first; when the reset finishes it goes to the waiter.
    @Test func releaseWithResetHandsOffAfterServerReady() {
        var pool = makePool(.init(poolSize: 1))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)
        _ = pool.acquire(client(2), now: t0, capacity: 10)

        #expect(pool.release(server(1), needsReset: true, now: t0 + .seconds(1), capacity: 10) == .reset(server(1)))
        #expect(pool.servers[server(1)]?.state == .resetting)
        #expect(pool.activeCount == 0)
        #expect(pool.idleCount == 0)
        #expect(pool.waitingCount == 1)

        #expect(pool.serverReady(server(1), now: t0 + .seconds(2)) == .assign(server(1), to: client(2)))
        #expect(pool.activeCount == 1)
        #expect(pool.waitingCount == 0)
    }

    /// A reset with nobody waiting leaves the server idle in the pool.
    @Test func resetWithoutWaitersLeavesServerIdle() {
        var pool = makePool(.init(poolSize: 1))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)
        #expect(pool.release(server(1), needsReset: true, now: t0, capacity: 10) == .reset(server(1)))
        #expect(pool.serverReady(server(1), now: t0 + .seconds(1)) == .idle)
        #expect(pool.idleCount == 1)
        #expect(pool.idleServers == [server(1)])
    }

    /// A server released as not reusable is closed; a replacement opens when a client waits.
    @Test func releaseNotReusableClosesAndOpensReplacementForWaiter() {
        var pool = makePool(.init(poolSize: 1))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)
        _ = pool.acquire(client(2, loop: 1), now: t0, capacity: 10)

        let action = pool.release(server(1), needsReset: false, reusable: false, now: t0, capacity: 0)
        #expect(action == .close(server(1), open: .init(server: server(2), loop: 0)))
        #expect(pool.serverCount == 1)
        #expect(pool.connectingCount == 1)
        #expect(pool.serverReady(server(2), now: t0) == .assign(server(2), to: client(2, loop: 1)))
    }

    /// A server past server_lifetime is closed when released instead of going back to the pool.
    @Test func releasePastLifetimeClosesServer() {
        var pool = makePool(.init(poolSize: 2, lifetime: .seconds(3600)))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)

        #expect(pool.release(server(1), needsReset: false, now: t0 + .seconds(3599), capacity: 10) == .idle)
        #expect(pool.acquire(client(2), now: t0 + .seconds(3599), capacity: 10) == .assign(server(1)))

        #expect(pool.release(server(1), needsReset: false, now: t0 + .seconds(3600), capacity: 10)
            == .close(server(1), open: nil))
        #expect(pool.serverCount == 0)
        #expect(pool.idleCount == 0)
        #expect(pool.activeCount == 0)
    }

    /// A server past server_lifetime released while a client waits is replaced for that client.
    @Test func releasePastLifetimeWithWaiterOpensReplacement() {
        var pool = makePool(.init(poolSize: 1, lifetime: .seconds(60)))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)
        #expect(pool.acquire(client(2), now: t0 + .seconds(30), capacity: 10) == .wait)

        #expect(pool.release(server(1), needsReset: true, now: t0 + .seconds(61), capacity: 10)
            == .close(server(1), open: .init(server: server(2), loop: 0)))
        #expect(pool.serverReady(server(2), now: t0 + .seconds(62)) == .assign(server(2), to: client(2)))
    }

    /// An unknown server released (already forgotten) changes nothing.
    @Test func releaseOfUnknownServerIsIgnored() {
        var pool = makePool(.init(poolSize: 1))
        #expect(pool.release(server(42), needsReset: false, now: t0, capacity: 10) == .idle)
        #expect(pool.serverCount == 0)
        #expect(pool.idleCount == 0)
    }

    // MARK: Waiting

    /// A waiter that gives up leaves the queue; the server goes to the next one.
    @Test func cancelWaitRemovesWaiter() {
        var pool = makePool(.init(poolSize: 1))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)
        _ = pool.acquire(client(2), now: t0, capacity: 10)
        _ = pool.acquire(client(3), now: t0, capacity: 10)
        #expect(pool.waitingCount == 2)

        let cancelled = pool.cancelWait(ClientID(2))
        #expect(cancelled)
        #expect(pool.waitingCount == 1)
        #expect(!pool.waiters.contains(ClientID(2)))
        let cancelledAgain = pool.cancelWait(ClientID(2))
        #expect(!cancelledAgain)
        let cancelledHolder = pool.cancelWait(ClientID(1))  // holds a server, not waiting
        #expect(!cancelledHolder)

        #expect(pool.release(server(1), needsReset: false, now: t0, capacity: 10) == .assign(server(1), to: client(3)))
        #expect(pool.waitingCount == 0)
    }

    /// Shutting the pool down hands back every waiter, oldest first.
    @Test func removeAllWaitersReturnsThemOldestFirst() {
        var pool = makePool(.init(poolSize: 1))
        for n in 1...3 { _ = pool.acquire(client(UInt64(n)), now: t0, capacity: 10) }
        #expect(pool.removeAllWaiters() == [client(1), client(2), client(3)])
        #expect(pool.waitingCount == 0)
    }

    // MARK: Server lost

    /// The only server failed to log in: every waiter is failed rather than left hanging, nothing reopens.
    @Test func loginFailureFailsWaitersNoOtherServerCanServe() {
        var pool = makePool(.init(poolSize: 1))
        _ = pool.acquire(client(1), now: t0, capacity: 10)
        _ = pool.acquire(client(2), now: t0, capacity: 10)
        _ = pool.acquire(client(3), now: t0, capacity: 10)

        let loss = pool.serverLost(server(1), loginFailed: true, now: t0 + .seconds(1), capacity: 10)
        #expect(loss == .init(failed: [client(1), client(2), client(3)], open: nil))
        #expect(pool.waitingCount == 0)
        #expect(pool.serverCount == 0)
    }

    /// One of two connecting servers failed to log in: the other one is still coming, so the oldest waiter
    /// keeps waiting and the rest are failed.
    @Test func loginFailureKeepsAsManyWaitersAsServersRemain() {
        var pool = makePool(.init(poolSize: 2))
        #expect(pool.acquire(client(1), now: t0, capacity: 10) == .openAndWait(server(1), loop: 0))
        // Loop 0 has its half of the pool: the second server opens on loop 1.
        #expect(pool.acquire(client(2), now: t0, capacity: 10) == .openAndWait(server(2), loop: 1))
        #expect(pool.acquire(client(3), now: t0, capacity: 10) == .wait)

        let loss = pool.serverLost(server(1), loginFailed: true, now: t0, capacity: 10)
        #expect(loss.failed == [client(2), client(3)])
        #expect(loss.open == nil)
        #expect(pool.waiters.waiting.map(\.tag) == [client(1)])
        #expect(pool.serverReady(server(2), now: t0) == .assign(server(2), to: client(1)))
    }

    /// A server dies under its client while another client waits: a replacement is opened for the waiter.
    @Test func serverLostWhileActiveWithWaitersOpensReplacement() {
        var pool = makePool(.init(poolSize: 1))
        _ = pool.acquire(client(1, loop: 1), now: t0, capacity: 10)
        _ = pool.serverReady(server(1), now: t0)
        _ = pool.acquire(client(2), now: t0, capacity: 10)

        let loss = pool.serverLost(server(1), loginFailed: false, now: t0 + .seconds(5), capacity: 10)
        #expect(loss == .init(failed: [], open: .init(server: server(2), loop: 1)))
        #expect(pool.serverCount == 1)
        #expect(pool.connectingCount == 1)
        #expect(pool.activeCount == 0)
        #expect(pool.waitingCount == 1)
        #expect(pool.serverReady(server(2), now: t0 + .seconds(6)) == .assign(server(2), to: client(2)))
    }

    /// A server dies with nobody waiting: nothing is opened in its place.
    @Test func serverLostWithoutWaitersOpensNothing() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 2), idleOn: [0], now: t0)
        let s1 = ids[0]
        #expect(pool.serverLost(s1, loginFailed: false, now: t0, capacity: 10) == .init())
        #expect(pool.serverCount == 0)
        #expect(pool.idleCount == 0)
        #expect(pool.idleServers.isEmpty)
        // The dead server is not handed out.
        #expect(pool.acquire(client(1), now: t0, capacity: 10) == .openAndWait(server(2), loop: 0))
    }

    /// With no max_db_connections and no max_user_connections the caller passes `Int.max` as capacity;
    /// losing a server under a client must not overflow.
    @Test func serverLostWithUnlimitedCapacityDoesNotTrap() async {
        await #expect(processExitsWith: .success) {
            let ids = ServerIDSource()
            var pool = PoolStateMachine(
                key: PoolKey(database: "orders", user: "app"), limits: .init(poolSize: 1), loops: 1
            ) { ids() }
            let now = ContinuousClock.now
            _ = pool.acquire(ClientTag(client: ClientID(1), loop: 0, application: "a"), now: now, capacity: .max)
            _ = pool.serverReady(ServerID(1), now: now)
            _ = pool.acquire(ClientTag(client: ClientID(2), loop: 0, application: "b"), now: now, capacity: .max)
            let loss = pool.serverLost(ServerID(1), loginFailed: false, now: now, capacity: .max)
            precondition(loss.open?.server == ServerID(2))
        }
    }

    /// Same as above for a server released past server_lifetime with unlimited capacity.
    @Test func releasePastLifetimeWithUnlimitedCapacityDoesNotTrap() async {
        await #expect(processExitsWith: .success) {
            let ids = ServerIDSource()
            var pool = PoolStateMachine(
                key: PoolKey(database: "orders", user: "app"), limits: .init(poolSize: 1, lifetime: .seconds(1)),
                loops: 1
            ) { ids() }
            let now = ContinuousClock.now
            _ = pool.acquire(ClientTag(client: ClientID(1), loop: 0, application: "a"), now: now, capacity: .max)
            _ = pool.serverReady(ServerID(1), now: now)
            let action = pool.release(ServerID(1), needsReset: false, now: now + .seconds(2), capacity: .max)
            precondition(action == .close(ServerID(1), open: nil))
        }
    }

    // MARK: server_check_delay

    /// A server idle longer than server_check_delay is checked first; the check passing (`serverReady`)
    /// assigns it to the very client that asked, ahead of older waiters.
    @Test func staleIdleServerIsCheckedAndThenAssignedToThatClient() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 1, checkDelay: .seconds(30)), idleOn: [0], now: t0)
        let s1 = ids[0]

        #expect(pool.acquire(client(1), now: t0 + .seconds(31), capacity: 10) == .check(s1))
        #expect(pool.servers[s1]?.state == .checking(for: client(1)))
        #expect(pool.activeCount == 1)
        #expect(pool.idleCount == 0)
        #expect(pool.waitingCount == 0)

        #expect(pool.acquire(client(2), now: t0 + .seconds(32), capacity: 10) == .wait)
        #expect(pool.serverReady(s1, now: t0 + .seconds(33)) == .assign(s1, to: client(1)))
        #expect(pool.servers[s1]?.state == .active(ClientID(1)))
        #expect(pool.waitingCount == 1)
    }

    /// A server used within server_check_delay is assigned without a check.
    @Test func recentlyUsedServerIsAssignedWithoutCheck() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 1, checkDelay: .seconds(30)), idleOn: [0], now: t0)
        let s1 = ids[0]
        #expect(pool.acquire(client(1), now: t0 + .seconds(29), capacity: 10) == .assign(s1))
    }

    /// A server that fails its check is dropped and the client goes back to the front of the line, with a
    /// replacement opened for it.
    @Test func failedCheckRequeuesClientAtFrontAndOpensReplacement() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 2, checkDelay: .seconds(30)), idleOn: [0], now: t0)
        let s1 = ids[0]
        _ = pool.acquire(client(1), now: t0 + .seconds(40), capacity: 10)  // check s1

        let loss = pool.serverLost(s1, loginFailed: false, now: t0 + .seconds(41), capacity: 10)
        #expect(loss.failed.isEmpty)
        #expect(loss.open == .init(server: server(2), loop: 0))
        #expect(pool.waiters.waiting.map(\.tag) == [client(1)])
        #expect(pool.serverReady(server(2), now: t0 + .seconds(42)) == .assign(server(2), to: client(1)))
    }

    /// A checked server fails its check while another server sits idle: the client must not wait beside the
    /// idle server. If it does, and the replacement then fails to log in, the idle server counts as "coming"
    /// for it, and nothing ever wakes it until query_wait_timeout.
    @Test func failedCheckWithAnotherIdleServerDoesNotLeaveClientWaiting() {
        var (pool, ids) = PoolStateMachine.withIdleServers(
            .init(poolSize: 2, checkDelay: .seconds(30)), idleOn: [0, 1], now: t0)
        #expect(pool.acquire(client(1, loop: 1), now: t0 + .seconds(40), capacity: 10) == .check(ids[1]))

        let loss = pool.serverLost(ids[1], loginFailed: false, now: t0 + .seconds(41), capacity: 10)
        #expect(loss.failed.isEmpty)
        #expect(
            pool.waitingCount == 0 || pool.idleCount == 0,
            "client waits while \(pool.idleServers) is idle")

        guard let replacement = loss.open?.server else { return }
        let loginFailure = pool.serverLost(replacement, loginFailed: true, now: t0 + .seconds(42), capacity: 10)
        #expect(
            pool.waitingCount == 0 || pool.idleCount == 0,
            "client stranded: waits while \(pool.idleServers) is idle; failed: \(loginFailure.failed)")
    }

    // MARK: Maintenance

    /// Idle servers past server_idle_timeout are closed down to min_pool_size; fresher ones stay.
    @Test func maintainClosesIdleServersPastIdleTimeoutKeepingMinPoolSize() {
        var (pool, ids) = PoolStateMachine.withIdleServers(
            .init(poolSize: 4, minPoolSize: 1, idleTimeout: .seconds(60)), idleOn: [0, 1, 0], now: t0)
        // One of them is used again at t0 + 50 s.
        guard case .assign(let s3) = pool.acquire(client(1), now: t0 + .seconds(50), capacity: 10) else {
            Issue.record("expected an idle server")
            return
        }
        #expect(pool.release(s3, needsReset: false, now: t0 + .seconds(50), capacity: 10) == .idle)
        let expired = Set(ids).subtracting([s3])
        #expect(pool.idleCount == 3)

        let early = pool.maintain(now: t0 + .seconds(59), capacity: 10)
        #expect(early.close.isEmpty)
        #expect(early.open.isEmpty)

        let first = pool.maintain(now: t0 + .seconds(60), capacity: 10)
        #expect(Set(first.close) == expired)
        #expect(first.open.isEmpty)
        #expect(pool.idleServers == [s3])
        #expect(pool.serverCount == 1)

        // s3 is past the timeout too, but it is the last one: min_pool_size keeps it.
        let second = pool.maintain(now: t0 + .seconds(500), capacity: 10)
        #expect(second.close.isEmpty)
        #expect(pool.idleCount == 1)
    }

    /// Idle servers past server_lifetime are closed by maintenance as well.
    @Test func maintainClosesIdleServersPastLifetime() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 2, lifetime: .seconds(600)), idleOn: [0], now: t0)
        let s1 = ids[0]
        #expect(pool.maintain(now: t0 + .seconds(599), capacity: 10).close.isEmpty)
        #expect(pool.maintain(now: t0 + .seconds(600), capacity: 10).close == [s1])
        #expect(pool.serverCount == 0)
    }

    /// Maintenance opens servers up to min_pool_size, within the capacity other budgets allow; they go idle.
    @Test func maintainOpensServersToReachMinPoolSize() {
        var pool = makePool(.init(poolSize: 4, minPoolSize: 3))
        let limited = pool.maintain(now: t0, capacity: 2)
        #expect(limited.close.isEmpty)
        #expect(limited.open.map(\.server) == [server(1), server(2)])
        #expect(Set(limited.open.map(\.loop)) == [0, 1])
        #expect(pool.connectingCount == 2)

        let rest = pool.maintain(now: t0, capacity: 10)
        #expect(rest.open.map(\.server) == [server(3)])
        #expect(pool.serverCount == 3)
        #expect(pool.maintain(now: t0, capacity: 10).open.isEmpty)

        for n in 1...3 { #expect(pool.serverReady(server(UInt64(n)), now: t0) == .idle) }
        #expect(pool.idleCount == 3)
        #expect(pool.connectingCount == 0)
    }

    /// min_pool_size above pool_size opens only pool_size servers.
    @Test func maintainNeverOpensBeyondPoolSize() {
        var pool = makePool(.init(poolSize: 2, minPoolSize: 5))
        #expect(pool.maintain(now: t0, capacity: 10).open.count == 2)
        #expect(pool.serverCount == 2)
    }

    /// Forgetting a server removes it from the books without an action.
    @Test func forgetRemovesIdleServer() {
        var (pool, ids) = PoolStateMachine.withIdleServers(.init(poolSize: 2), idleOn: [1], now: t0)
        let s1 = ids[0]
        pool.forget(s1)
        #expect(pool.serverCount == 0)
        #expect(pool.idleCount == 0)
    }

    // MARK: Property: random events

    /// 1,000 random events on a seeded generator: the pool never exceeds pool_size, never gives one server to
    /// two clients, its counts match a model kept from its actions, and once servers are released every
    /// client still waiting is served.
    @Test(arguments: [1, 2, 3, 42, 2024] as [UInt64])
    func randomEventsKeepPoolInvariants(seed: UInt64) {
        var model = PoolModel(limits: .init(
            poolSize: 4, minPoolSize: 1, checkDelay: .seconds(30), idleTimeout: .seconds(120),
            lifetime: .seconds(600), loopAffinityWindow: .zero))  // strict FIFO: the model's rule
        var rng = SplitMix64(seed: seed)
        var now = t0
        for _ in 0..<1_000 {
            now += .seconds(Int.random(in: 0...20, using: &rng))
            model.randomEvent(now: now, using: &rng)
            model.checkInvariants()
        }
        model.drain(now: now)
        model.checkInvariants()
        #expect(model.waiting.isEmpty)
        #expect(model.pool.waitingCount == 0)
        #expect(model.neverServed.isEmpty, "clients still waiting after the drain: \(model.neverServed)")
    }
}

/// A pool driven by random events, with a model of what its actions said, checked after every event.
private struct PoolModel {
    var pool: PoolStateMachine
    let limits: PoolStateMachine.Limits
    /// Which client each assigned server went to.
    var holders: [ServerID: ClientID] = [:]
    var checking: [ServerID: ClientTag] = [:]
    var connecting: Set<ServerID> = []
    var resetting: Set<ServerID> = []
    var idle: Set<ServerID> = []
    /// Waiting clients, oldest first.
    var waiting: [ClientTag] = []
    /// Clients that started waiting and were neither served, failed nor cancelled.
    var neverServed: Set<ClientID> = []
    var nextClient: UInt64 = 1

    init(limits: PoolStateMachine.Limits) {
        self.limits = limits
        pool = makePool(limits)
    }

    mutating func randomEvent(now: ContinuousClock.Instant, using rng: inout SplitMix64) {
        let capacity = Int.random(in: 0...3, using: &rng)
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<35:
            let tag = client(nextClient, loop: Int.random(in: 0...1, using: &rng))
            nextClient += 1
            acquired(tag, pool.acquire(tag, now: now, capacity: capacity))
        case 35..<55:
            if let id = connecting.union(resetting).union(checking.keys).sorted().randomElement(using: &rng) {
                handedOff(id, pool.serverReady(id, now: now), from: .ready)
            }
        case 55..<80:
            if let id = holders.keys.sorted().randomElement(using: &rng) {
                let needsReset = Bool.random(using: &rng)
                let reusable = Int.random(in: 0..<10, using: &rng) > 0
                holders[id] = nil
                handedOff(
                    id, pool.release(id, needsReset: needsReset, reusable: reusable, now: now, capacity: capacity),
                    from: .release)
            }
        case 80..<87:
            if let tag = waiting.randomElement(using: &rng) {
                let cancelled = pool.cancelWait(tag.client)
                #expect(cancelled)
                waiting.removeAll { $0.client == tag.client }
                neverServed.remove(tag.client)
            }
        case 87..<95:
            // Sorted: Set and Dictionary order changes from run to run; the seed alone must decide.
            if let id = pool.servers.keys.sorted().randomElement(using: &rng) {
                let loginFailed = connecting.contains(id) && Bool.random(using: &rng)
                lost(id, pool.serverLost(id, loginFailed: loginFailed, now: now, capacity: capacity), now: now)
            }
        default:
            maintained(pool.maintain(now: now, capacity: capacity))
        }
    }

    /// Serves everything: finishes every login, reset and check and releases every server, until no client waits.
    mutating func drain(now: ContinuousClock.Instant) {
        var rounds = 0
        while !waiting.isEmpty || !connecting.isEmpty || !resetting.isEmpty || !checking.isEmpty {
            rounds += 1
            guard rounds < 10_000 else {
                Issue.record("drain does not finish: \(waiting.count) waiting, \(pool.serverCount) servers")
                return
            }
            if let id = connecting.union(resetting).union(checking.keys).min() {
                handedOff(id, pool.serverReady(id, now: now), from: .ready)
            } else if let id = holders.keys.min() {
                holders[id] = nil
                handedOff(id, pool.release(id, needsReset: false, now: now, capacity: 10), from: .release)
            } else {
                // Waiters and no server at all (capacity was 0 when they came): the periodic upkeep opens one.
                #expect(pool.serverCount == 0)
                let result = pool.maintain(now: now, capacity: 10)
                #expect(!result.open.isEmpty, "waiters stranded with no server and nothing to open")
                if result.open.isEmpty { return }
                maintained(result)
            }
            checkInvariants()
        }
    }

    // MARK: Applying actions to the model

    mutating func acquired(_ tag: ClientTag, _ action: PoolStateMachine.AcquireAction) {
        switch action {
        case .assign(let id):
            #expect(idle.remove(id) != nil, "assigned \(id), which was not idle")
            assign(id, to: tag.client)
        case .check(let id):
            #expect(idle.remove(id) != nil, "checking \(id), which was not idle")
            checking[id] = tag
        case .openAndWait(let id, let loop):
            #expect((0..<2).contains(loop), "opened on loop \(loop) of 2")
            opened(id)
            startWaiting(tag)
        case .wait:
            startWaiting(tag)
        case .refuse:
            Issue.record("refused \(tag.client) although server_login_retry is zero")
        }
    }

    enum Source { case ready, release }

    mutating func handedOff(_ id: ServerID, _ action: PoolStateMachine.HandoffAction, from source: Source) {
        let wasChecking = checking.removeValue(forKey: id)
        connecting.remove(id)
        resetting.remove(id)
        switch action {
        case .assign(let assigned, let tag):
            #expect(assigned == id)
            if let wasChecking {
                #expect(tag == wasChecking, "a checked server goes to the client it was checked for")
            } else {
                #expect(tag == waiting.first, "a ready server goes to the oldest waiter")
                waiting.removeAll { $0 == tag }
            }
            assign(id, to: tag.client)
        case .check:
            Issue.record("a ready or released server is never checked")
        case .idle:
            #expect(waiting.isEmpty, "\(id) went idle while \(waiting.count) clients wait")
            #expect(wasChecking == nil, "a passed check must assign")
            idle.insert(id)
        case .close(let closed, let open):
            #expect(closed == id)
            #expect(source == .release)
            if let open { opened(open.server) }
        case .reset(let reset):
            #expect(reset == id)
            #expect(source == .release)
            resetting.insert(id)
        }
    }

    mutating func lost(_ id: ServerID, _ loss: PoolStateMachine.LossAction, now: ContinuousClock.Instant) {
        holders[id] = nil
        connecting.remove(id)
        resetting.remove(id)
        idle.remove(id)
        if let tag = checking.removeValue(forKey: id) {
            waiting.insert(tag, at: 0)
            neverServed.insert(tag.client)
        }
        for tag in loss.failed {
            #expect(waiting.contains(tag), "failed \(tag.client), which was not waiting")
            waiting.removeAll { $0 == tag }
            neverServed.remove(tag.client)
        }
        if let open = loss.open { opened(open.server) }
        switch loss.handoff {
        case .assign(let given, let tag)?:
            #expect(idle.remove(given) != nil, "handed \(given), which was not idle")
            #expect(tag == waiting.first, "the requeued client is served first")
            waiting.removeAll { $0 == tag }
            assign(given, to: tag.client)
        case .check(let given, let tag)?:
            #expect(idle.remove(given) != nil, "checking \(given), which was not idle")
            #expect(tag == waiting.first, "the requeued client is served first")
            waiting.removeAll { $0 == tag }
            checking[given] = tag
        case nil:
            break
        default:
            Issue.record("unexpected handoff after a loss: \(String(describing: loss.handoff))")
        }
    }

    mutating func maintained(_ result: PoolStateMachine.Upkeep) {
        for id in result.close {
            #expect(idle.remove(id) != nil, "maintenance closed \(id), which was not idle")
        }
        for open in result.open { opened(open.server) }
    }

    mutating func assign(_ id: ServerID, to client: ClientID) {
        #expect(holders[id] == nil, "\(id) assigned to \(client) while held by \(holders[id].map(String.init(describing:)) ?? "")")
        #expect(!holders.values.contains(client), "\(client) got a second server")
        holders[id] = client
        neverServed.remove(client)
    }

    mutating func opened(_ id: ServerID) {
        #expect(!connecting.contains(id) && !idle.contains(id) && holders[id] == nil, "\(id) opened twice")
        connecting.insert(id)
    }

    mutating func startWaiting(_ tag: ClientTag) {
        waiting.append(tag)
        neverServed.insert(tag.client)
    }

    // MARK: Invariants

    func checkInvariants(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(pool.serverCount <= limits.poolSize, sourceLocation: sourceLocation)
        #expect(pool.waiters.waiting.map(\.tag) == waiting, sourceLocation: sourceLocation)
        #expect(pool.waitingCount == waiting.count, sourceLocation: sourceLocation)
        #expect(pool.idleCount == idle.count, sourceLocation: sourceLocation)
        #expect(Set(pool.idleServers) == idle, sourceLocation: sourceLocation)
        #expect(pool.idleServers.count == idle.count, "a server is listed idle twice", sourceLocation: sourceLocation)
        #expect(pool.activeCount == holders.count + checking.count, sourceLocation: sourceLocation)
        #expect(pool.connectingCount == connecting.count, sourceLocation: sourceLocation)
        let known = Set(holders.keys).union(checking.keys).union(connecting).union(resetting).union(idle)
        #expect(Set(pool.servers.keys) == known, sourceLocation: sourceLocation)
        #expect(pool.serverCount == holders.count + checking.count + connecting.count + resetting.count + idle.count,
            "a server is in two states", sourceLocation: sourceLocation)
        for (id, holder) in holders {
            #expect(pool.servers[id]?.state == .active(holder), sourceLocation: sourceLocation)
        }
        for (id, tag) in checking {
            #expect(pool.servers[id]?.state == .checking(for: tag), sourceLocation: sourceLocation)
        }
        for id in resetting {
            #expect(pool.servers[id]?.state == .resetting, sourceLocation: sourceLocation)
        }
        // Idle servers and waiters never coexist: a server going idle would have gone to the waiter.
        #expect(idle.isEmpty || waiting.isEmpty, sourceLocation: sourceLocation)
    }
}
