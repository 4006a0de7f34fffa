import Testing

@testable import SpillwayCore


@Suite struct StarvationReserveTests {
    let t0 = ContinuousClock.now

    /// The acquire (which waits: the pool is full), then upkeep's tick, which opens a reserve server when one
    /// is wanted — as the executor runs them, every 100 ms.
    private func acquireThenTick(
        _ pool: inout PoolStateMachine, _ tag: ClientTag, now: ContinuousClock.Instant, capacity: Int = 100
    ) -> PoolStateMachine.OpenRequest? {
        #expect(pool.acquire(tag, now: now, capacity: capacity) == .wait)
        return pool.openReserveIfWanted(now: now, capacity: capacity)
    }

    /// pool_size 2 + reserve_pool_size 1, with batch holding both servers (c1 on s1, c2 on s2).
    private func poolFullOfBatch(reserveTimeout: Duration? = nil) -> PoolStateMachine {
        var pool = makePool(.init(poolSize: 2, reservePoolSize: 1, reserveTimeout: reserveTimeout))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(2, app: "batch"), in: &pool, now: t0)
        return pool
    }

    /// The pool is full of batch and web, holding nothing, asks: a reserve server opens at once and is web's.
    @Test func applicationHoldingNothingGetsAReserveServer() {
        var pool = poolFullOfBatch()
        #expect(acquireThenTick(&pool, tag(3, app: "web"), now: t0) == .init(server: s(3), loop: 0))
        #expect(pool.serverCount == 3)
        #expect(pool.serverReady(s(3), now: t0 + .milliseconds(5)) == .assign(s(3), to: tag(3, app: "web")))
        #expect(pool.serversHeldByApplication == ["batch": 2, "web": 1])
    }

    /// web waits behind a batch client that came first: the reserve opens for web and goes to web, not to the
    /// older batch waiter.
    @Test func reserveServerGoesToStarvingApplicationNotOlderWaiter() {
        var pool = poolFullOfBatch()
        #expect(acquireThenTick(&pool, tag(3, app: "batch"), now: t0) == nil)
        #expect(
            acquireThenTick(&pool, tag(4, app: "web"), now: t0 + .milliseconds(1)) == .init(server: s(3), loop: 0))
        #expect(pool.serverReady(s(3), now: t0 + .milliseconds(5)) == .assign(s(3), to: tag(4, app: "web")))
        #expect(pool.waiters.waiting.map(\.tag.client) == [ClientID(3)])
    }

    /// No more than reserve_pool_size servers open beyond pool_size, however many applications starve.
    @Test func reserveIsBoundedByReservePoolSize() {
        var pool = poolFullOfBatch()
        #expect(acquireThenTick(&pool, tag(3, app: "web"), now: t0) == .init(server: s(3), loop: 0))
        #expect(acquireThenTick(&pool, tag(4, app: "report"), now: t0) == nil)
        #expect(pool.serverCount == 3)
        #expect(pool.openReserveIfWanted(now: t0 + .seconds(60), capacity: 100) == nil)
        #expect(pool.serverCount == 3)
    }

    /// Without reserve_pool_size, the starving application waits like anyone else.
    @Test func noReserveWithoutReservePoolSize() {
        var pool = makePool(.init(poolSize: 2))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(2, app: "batch"), in: &pool, now: t0)
        #expect(pool.acquire(tag(3, app: "web"), now: t0, capacity: 100) == .wait)
        #expect(pool.serverCount == 2)
    }

    /// Other budgets (max_db_connections) leave no room: no reserve server either.
    @Test func noReserveWithoutCapacity() {
        var pool = poolFullOfBatch()
        #expect(pool.acquire(tag(3, app: "web"), now: t0, capacity: 0) == .wait)
        #expect(pool.serverCount == 2)
    }

    /// One application alone: it is at its fair share, so no reserve before reserve_pool_timeout; upkeep opens
    /// one once the oldest waiter has waited that long.
    @Test func singleApplicationGetsReserveFromUpkeepAfterReserveTimeout() {
        var pool = poolFullOfBatch(reserveTimeout: .seconds(1))
        #expect(acquireThenTick(&pool, tag(3, app: "batch"), now: t0) == nil)

        #expect(pool.openReserveIfWanted(now: t0 + .milliseconds(999), capacity: 100) == nil)
        #expect(pool.serverCount == 2)

        #expect(pool.openReserveIfWanted(now: t0 + .seconds(1), capacity: 100) == .init(server: s(3), loop: 0))
        #expect(pool.serverCount == 3)
        #expect(pool.serverReady(s(3), now: t0 + .seconds(1)) == .assign(s(3), to: tag(3, app: "batch")))
    }

    /// The same through acquire: a later client arriving after the oldest waited reserve_pool_timeout opens
    /// the reserve server, which goes to the oldest waiter.
    @Test func singleApplicationGetsReserveFromAcquireAfterReserveTimeout() {
        var pool = poolFullOfBatch(reserveTimeout: .seconds(1))
        #expect(acquireThenTick(&pool, tag(3, app: "batch"), now: t0) == nil)
        #expect(acquireThenTick(&pool, tag(4, app: "batch"), now: t0 + .milliseconds(500)) == nil)
        #expect(acquireThenTick(&pool, tag(5, app: "batch"), now: t0 + .seconds(1)) == .init(server: s(3), loop: 0))
        #expect(pool.serverReady(s(3), now: t0 + .seconds(1)) == .assign(s(3), to: tag(3, app: "batch")))
    }

    /// Without reserve_pool_timeout, one application alone never gets the reserve.
    @Test func singleApplicationWithoutReserveTimeoutNeverGetsReserve() {
        var pool = poolFullOfBatch()
        #expect(acquireThenTick(&pool, tag(3, app: "batch"), now: t0) == nil)
        #expect(pool.openReserveIfWanted(now: t0 + .seconds(3600), capacity: 100) == nil)
        #expect(pool.serverCount == 2)
    }

    /// A server released while the pool is over pool_size and nobody waits is closed, back to the pool size;
    /// the next one released stays idle.
    @Test func serverReleasedBeyondPoolSizeWithNobodyWaitingIsClosed() {
        var pool = poolFullOfBatch()
        #expect(acquireThenTick(&pool, tag(3, app: "web"), now: t0) == .init(server: s(3), loop: 0))
        _ = pool.serverReady(s(3), now: t0)

        #expect(pool.release(s(3), needsReset: false, now: t0 + .seconds(1), capacity: 100) == .close(s(3), open: nil))
        #expect(pool.serverCount == 2)
        #expect(pool.release(s(1), needsReset: false, now: t0 + .seconds(2), capacity: 100) == .idle)
        #expect(pool.serverCount == 2)
        #expect(pool.idleCount == 1)
    }

    /// The reserve server coming back after a reset with nobody waiting is closed too.
    @Test func reserveServerResetWithNobodyWaitingIsClosed() {
        var pool = poolFullOfBatch()
        #expect(acquireThenTick(&pool, tag(3, app: "web"), now: t0) == .init(server: s(3), loop: 0))
        _ = pool.serverReady(s(3), now: t0)
        #expect(pool.release(s(3), needsReset: true, now: t0 + .seconds(1), capacity: 100) == .reset(s(3)))
        #expect(pool.serverReady(s(3), now: t0 + .seconds(1)) == .close(s(3), open: nil))
        #expect(pool.serverCount == 2)
    }

    /// While someone still waits, a server released over pool_size goes to the waiter instead of closing.
    @Test func serverReleasedBeyondPoolSizeGoesToWaiter() {
        var pool = poolFullOfBatch()
        #expect(acquireThenTick(&pool, tag(3, app: "web"), now: t0) == .init(server: s(3), loop: 0))
        _ = pool.serverReady(s(3), now: t0)
        #expect(pool.acquire(tag(4, app: "web"), now: t0, capacity: 100) == .wait)

        #expect(
            pool.release(s(3), needsReset: false, now: t0 + .seconds(1), capacity: 100)
                == .assign(s(3), to: tag(4, app: "web")))
        #expect(pool.serverCount == 3)
    }
}
