import Testing

@testable import SpillwayCore

/// Clients c1 … c`count` each hold a newly opened server (s1 … s`count`) of a pool with `limits`
/// (test builder: start mid-story).
private func poolWithHolders(_ count: Int, _ limits: PoolStateMachine.Limits, now: ContinuousClock.Instant)
    -> PoolStateMachine
{
    var pool = makePool(limits)
    for n in 1...UInt64(count) {
        guard case .openAndWait(let id, _) = pool.acquire(tag(n), now: now, capacity: 100) else {
            preconditionFailure("poolWithHolders needs pool_size >= \(count)")
        }
        precondition(pool.serverReady(id, now: now) == .assign(id, to: tag(n)))
    }
    return pool
}

/// Clients c100, c101 … queue for a server of the full `pool`.
private func addWaiters(_ count: Int, to pool: inout PoolStateMachine, now: ContinuousClock.Instant) {
    for n in 0..<UInt64(count) {
        precondition(pool.acquire(tag(100 + n), now: now, capacity: 100) == .wait)
    }
}

/// What the clients' published activity says: how long each has been idle inside its transaction.
private func idle(_ table: [UInt64: Duration]) -> (ClientID) -> Duration? {
    { table[$0.raw] }
}


@Suite struct IdleTransactionReclaimTests {
    let t0 = ContinuousClock.now

    // MARK: max_idle_transaction_servers

    /// max_idle_transaction_servers defaults to half the pool size, rounded down but at least 1; an explicit
    /// value wins.
    @Test func capDefaultsToHalfThePoolSize() {
        #expect(PoolStateMachine.Limits(poolSize: 4).maxIdleTransactionServers == 2)
        #expect(PoolStateMachine.Limits(poolSize: 5).maxIdleTransactionServers == 2)
        #expect(PoolStateMachine.Limits(poolSize: 1).maxIdleTransactionServers == 1)
        #expect(PoolStateMachine.Limits(poolSize: 4, maxIdleTransactionServers: 3).maxIdleTransactionServers == 3)
    }

    // MARK: reclaimIdleTransactions

    /// Every holder idle in a transaction for minutes, but nobody waits: nothing is reclaimed or marked.
    @Test func nothingIsReclaimedWithoutWaiters() {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)
        let reclaims = pool.reclaimIdleTransactions(
            idleFor: idle([1: .seconds(300), 2: .seconds(200), 3: .seconds(100), 4: .seconds(50)]))
        #expect(reclaims.isEmpty)
        #expect(pool.servers.values.allSatisfy { !$0.reclaiming })
    }

    /// Clients wait, but only as many holders as max_idle_transaction_servers sit idle in transactions (the
    /// others are busy): they keep their servers.
    @Test func nothingIsReclaimedWhileIdleHoldersAreWithinTheCap() {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)  // cap 2
        addWaiters(3, to: &pool, now: t0)
        let reclaims = pool.reclaimIdleTransactions(idleFor: idle([1: .seconds(600), 3: .seconds(600)]))
        #expect(reclaims.isEmpty)
        #expect(pool.servers.values.allSatisfy { !$0.reclaiming })
    }

    /// Past the cap, the longest-idle holders go first, one per waiter: one waiter takes one server.
    @Test func pastTheCapTheLongestIdleHolderGoesFirst() {
        var pool = poolWithHolders(6, .init(poolSize: 6), now: t0)  // cap 3
        addWaiters(1, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(10), 2: .seconds(50), 3: .seconds(30), 4: .seconds(20), 5: .seconds(40)])

        let reclaims = pool.reclaimIdleTransactions(idleFor: idleFor)
        #expect(reclaims == [.init(server: s(2), client: c(2), idleFor: .seconds(50))])
        #expect(pool.servers[s(2)]?.reclaiming == true)
        #expect(pool.servers.values.filter(\.reclaiming).count == 1)
    }

    /// With more waiters, as many holders as are idle beyond the cap are reclaimed, longest idle first, never
    /// more than the excess.
    @Test(arguments: [2, 4])
    func reclaimsAtMostTheExcessAndAtMostOnePerWaiter(waiters: Int) {
        let reclaimed: [UInt64] = [2, 5]
        var pool = poolWithHolders(6, .init(poolSize: 6), now: t0)  // cap 3: 5 idle holders are 2 too many
        addWaiters(waiters, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(10), 2: .seconds(50), 3: .seconds(30), 4: .seconds(20), 5: .seconds(40)])

        let reclaims = pool.reclaimIdleTransactions(idleFor: idleFor)
        #expect(reclaims.map(\.client) == reclaimed.map(c))
        #expect(reclaims.map(\.server) == reclaimed.map(s))
        #expect(Set(pool.servers.values.filter(\.reclaiming).map(\.id)) == Set(reclaimed.map(s)))
    }

    /// Servers already being reclaimed are not chosen twice, and they still count as idle toward the cap until
    /// they are back: a second tick before they come back reclaims nothing more.
    @Test func markedServersAreNotChosenTwiceAndCountTowardTheCap() {
        var pool = poolWithHolders(6, .init(poolSize: 6), now: t0)  // cap 3
        addWaiters(3, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(10), 2: .seconds(50), 3: .seconds(30), 4: .seconds(20), 5: .seconds(40)])

        let first = pool.reclaimIdleTransactions(idleFor: idleFor)
        #expect(first.map(\.server) == [s(2), s(5)])

        // 100 ms later the two reclaimed holders have not given their servers back yet: 5 idle holders, 2 of
        // them already on their way back, leave exactly the cap of 3.
        let second = pool.reclaimIdleTransactions(idleFor: idleFor)
        #expect(second.isEmpty, "reclaimed again before the first reclaims completed: \(second)")
        #expect(Set(pool.servers.values.filter(\.reclaiming).map(\.id)) == [s(2), s(5)])
    }

    /// Marked servers cover waiters: with one waiter and its server already being reclaimed, nothing more goes.
    @Test func markedServersCoverWaiters() {
        var pool = poolWithHolders(6, .init(poolSize: 6), now: t0)  // cap 3
        addWaiters(1, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(10), 2: .seconds(50), 3: .seconds(30), 4: .seconds(20), 5: .seconds(40)])
        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).map(\.server) == [s(2)])
        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).isEmpty)
    }

    /// A reclaim abandoned (the holder was busy again when it arrived) unmarks the server: it can be chosen again.
    @Test func abandonedReclaimCanBeChosenAgain() {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)  // cap 2
        addWaiters(1, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(90), 2: .seconds(60), 3: .seconds(30)])
        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).map(\.server) == [s(1)])

        pool.reclaimAbandoned(s(1))
        #expect(pool.servers[s(1)]?.reclaiming == false)
        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).map(\.server) == [s(1)])
        #expect(pool.servers[s(1)]?.reclaiming == true)
    }

    /// A reclaimed server, once released and handed to the waiter, is no longer marked: its new holder can be
    /// reclaimed in turn if it idles.
    @Test func releasedAndReassignedServerIsNoLongerMarked() {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)  // cap 2
        addWaiters(2, to: &pool, now: t0)
        #expect(
            pool.reclaimIdleTransactions(idleFor: idle([1: .seconds(90), 2: .seconds(60), 3: .seconds(30)]))
                .map(\.server) == [s(1)])

        // The reclaimed client's server comes back clean (after its ROLLBACK) and goes to the oldest waiter.
        #expect(
            pool.release(s(1), needsReset: false, now: t0 + .seconds(1), capacity: 100) == .assign(s(1), to: tag(100)))
        #expect(pool.servers[s(1)]?.reclaiming == false)
        #expect(pool.servers[s(1)]?.state == .active(c(100)))

        // Now c100 idles longest: it is the one reclaimed for the remaining waiter.
        let next = pool.reclaimIdleTransactions(idleFor: idle([100: .seconds(120), 2: .seconds(60), 3: .seconds(30)]))
        #expect(next == [.init(server: s(1), client: c(100), idleFor: .seconds(120))])
    }

    /// A server released for a reset (the usual path after a reclaim's ROLLBACK) drops its mark too.
    @Test func serverReleasedForResetIsNoLongerMarked() {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)  // cap 2
        addWaiters(1, to: &pool, now: t0)
        _ = pool.reclaimIdleTransactions(idleFor: idle([1: .seconds(90), 2: .seconds(60), 3: .seconds(30)]))
        #expect(pool.release(s(1), needsReset: true, now: t0, capacity: 100) == .reset(s(1)))
        #expect(pool.servers[s(1)]?.reclaiming == false)
        #expect(pool.serverReady(s(1), now: t0) == .assign(s(1), to: tag(100)))
        #expect(pool.servers[s(1)]?.reclaiming == false)
    }

    /// The requirement: a legitimate transaction idle for 100 ms is never reclaimed while holders idle
    /// far longer exceed the cap; they go first, however many clients wait.
    @Test(arguments: [1, 2, 5])
    func shortIdleTransactionIsNotReclaimedWhileLongIdleHoldersExceedTheCap(waiters: Int) {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)  // cap 2: 4 idle holders are 2 too many
        addWaiters(waiters, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(60), 2: .milliseconds(100), 3: .seconds(50), 4: .seconds(40)])

        let reclaims = pool.reclaimIdleTransactions(idleFor: idleFor)
        #expect(reclaims.count == min(waiters, 2))
        #expect(!reclaims.contains { $0.client == c(2) })
        #expect(pool.servers[s(2)]?.reclaiming == false)
    }

    /// The requirement across ticks: the leaking holder is being reclaimed and, once it is back, the
    /// 100 ms-idle transaction is within the cap, so the next tick (before the leak's server is back) leaves it be.
    @Test func shortIdleTransactionIsNotReclaimedWhileAnEarlierReclaimIsInFlight() {
        var pool = poolWithHolders(2, .init(poolSize: 2, maxIdleTransactionServers: 1), now: t0)
        addWaiters(3, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(300), 2: .milliseconds(100)])

        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).map(\.client) == [c(1)])
        let next = pool.reclaimIdleTransactions(idleFor: idleFor)
        #expect(next.isEmpty, "the 100 ms-idle transaction was reclaimed: \(next)")
        #expect(pool.servers[s(2)]?.reclaiming == false)
    }

    /// A paused pool lends nothing, so reclaiming for its waiters would only kill transactions: nothing goes.
    @Test func pausedPoolReclaimsNothing() {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)
        pool.pause()
        #expect(pool.acquire(tag(100), now: t0, capacity: 100) == .wait)
        #expect(pool.acquire(tag(101), now: t0, capacity: 100) == .wait)
        let idleFor = idle([1: .seconds(60), 2: .seconds(60), 3: .seconds(60), 4: .seconds(60)])
        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).isEmpty)
        #expect(pool.servers.values.allSatisfy { !$0.reclaiming })

        _ = pool.resume(now: t0, capacity: 100)
        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).count == 2)
    }

    // MARK: idleTransactionsPast (idle_transaction_timeout)

    /// Exactly the holders idle in a transaction for the timeout or longer are picked (and marked), with or
    /// without waiters; busy holders and ones idle a moment less keep their servers.
    @Test func idleTransactionsPastPicksHoldersAtOrOverTheTimeout() {
        var pool = poolWithHolders(4, .init(poolSize: 4), now: t0)
        let idleFor = idle([1: .seconds(30), 2: .seconds(29) + .milliseconds(999), 3: .seconds(31)])

        let expired = pool.idleTransactionsPast(.seconds(30), idleFor: idleFor)
        #expect(
            expired.sorted { $0.server < $1.server } == [
                .init(server: s(1), client: c(1), idleFor: .seconds(30)),
                .init(server: s(3), client: c(3), idleFor: .seconds(31)),
            ])
        #expect(Set(pool.servers.values.filter(\.reclaiming).map(\.id)) == [s(1), s(3)])

        // Marked: not picked again on the next upkeep.
        #expect(pool.idleTransactionsPast(.seconds(30), idleFor: idleFor).isEmpty)
    }

    /// A holder already being reclaimed for contention is not picked again by the timeout.
    @Test func idleTransactionsPastSkipsServersBeingReclaimed() {
        var pool = poolWithHolders(2, .init(poolSize: 2, maxIdleTransactionServers: 0), now: t0)
        addWaiters(1, to: &pool, now: t0)
        let idleFor = idle([1: .seconds(90), 2: .seconds(60)])
        #expect(pool.reclaimIdleTransactions(idleFor: idleFor).map(\.server) == [s(1)])
        #expect(pool.idleTransactionsPast(.seconds(30), idleFor: idleFor).map(\.server) == [s(2)])
    }
}
