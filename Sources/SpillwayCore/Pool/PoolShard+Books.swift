/// A shard's books: lending and giving back, opening under claims, moving servers out, and what it publishes
/// to the other loops' shards.
extension PoolShard {
    // MARK: Lending and the idle list

    mutating func enqueue(_ tag: ClientTag, since: ContinuousClock.Instant) {
        waiters.append(tag, since: since)
        publishWaiters()
    }

    mutating func takeIdle() -> ServerID? {
        guard let id = idle.popLast() else { return nil }
        publishIdle()
        return id
    }

    enum Use {
        case assign(ServerID)
        case check(ServerID, ClientTag)
        var acquireAction: AcquireAction {
            switch self {
            case .assign(let id): .assign(id)
            case .check(let id, _): .check(id)
            }
        }
    }

    mutating func use(_ id: ServerID, for tag: ClientTag, now: ContinuousClock.Instant) -> Use {
        guard let index = servers.index(forKey: id) else { preconditionFailure("idle list names unknown server \(id)") }
        if case .idle(let since) = servers.values[index].state, let delay = limits.checkDelay, now - since >= delay {
            lend(at: index, to: tag)
            servers.values[index].state = .checking(for: tag)
            return .check(id, tag)
        }
        lend(at: index, to: tag)
        return .assign(id)
    }

    /// Hands a usable server to the client it was checked for, a waiter here, a longer waiter elsewhere, or
    /// the idle list.
    mutating func makeAvailable(_ id: ServerID, now: ContinuousClock.Instant, arrived: Bool = false) -> HandoffAction {
        guard let index = servers.index(forKey: id) else { return .idle }
        if case .checking(let tag) = servers.values[index].state {
            servers.values[index].state = .active(tag.client)
            return .assign(id, to: tag)
        }
        servers.values[index].reclaiming = false
        guard runState == .running else { return parkIdle(at: index, now: now) }
        // Nobody waits here and someone waits elsewhere: the server moves there. With waiters on both loops it
        // stays, unless the other loop's oldest came more than the affinity window before this loop's oldest:
        // no client is passed over by one that came that much later, and a saturated pool does not shuttle
        // servers between loops (a move is an epoll change and a wakeup across cores).
        if !arrived, let (other, since) = shared.oldestWaiterElsewhere(than: loop) {
            guard let localOldest = firstAdmissibleWaiter else { return .move(depart(id), to: other) }
            let (seconds, attoseconds) = limits.loopAffinityWindow.components
            let window = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
            if since + window < shared.stamp(localOldest.since) {
                return .move(depart(id), to: other)
            }
        }
        guard let waiter = nextWaiter(now: now) else {
            if servers.values[index].fromReserve, waiters.isEmpty {
                // A reserve server nobody needs any more: back to the pool size.
                drop(id)
                return .close(id, open: nil)
            }
            return parkIdle(at: index, now: now)
        }
        lend(at: index, to: waiter.tag)
        return .assign(id, to: waiter.tag)
    }

    mutating func parkIdle(at index: Dictionary<ServerID, Server>.Index, now: ContinuousClock.Instant) -> HandoffAction {
        servers.values[index].state = .idle(since: now)
        idle.append(servers.keys[index])
        publishIdle()
        return .idle
    }

    /// Marks the server at `index` lent to `tag`'s client, in place, and counts it against the application.
    mutating func lend(at index: Dictionary<ServerID, Server>.Index, to tag: ClientTag) {
        servers.values[index].state = .active(tag.client)
        servers.values[index].holder = tag
        // Counted whatever the cap: caps are checked when the waiter is chosen (`admitsApplication`), and two
        // loops choosing at once may pass a cap by one for a moment; pool-wide bounds are claims and never pass.
        let counter = holding(for: tag.application)
        counter.add()
        servers.values[index].holderCount = counter
        // A new transaction counts as idle in one until the next count says otherwise: several idle servers
        // handed out at once must not all go to a job refilling the pool.
        if tag.opensTransaction, !servers.values[index].countedStalled {
            servers.values[index].countedStalled = true
            stalledTransactionHolders += 1
            publishStalled()
        }
    }

    /// Ends the lending of the server at `index`: its application holds one fewer.
    mutating func unlend(at index: Dictionary<ServerID, Server>.Index) {
        servers.values[index].reclaiming = false
        if servers.values[index].countedStalled {
            servers.values[index].countedStalled = false
            stalledTransactionHolders -= 1
            publishStalled()
        }
        if servers.values[index].holdsReclaimMark {
            servers.values[index].holdsReclaimMark = false
            shared.reclaims.giveBack()
        }
        guard servers.values[index].holder != nil else { return }
        servers.values[index].holder = nil
        servers.values[index].holderCount?.giveBack()
        servers.values[index].holderCount = nil
    }

    /// The shared count of servers `application` holds in this pool.
    mutating func holding(for application: String) -> SharedLimit {
        if let known = holdings[application] { return known }
        let counter = shared.applicationHolds(application, cap: limits.applications[application]?.maxServerConnections)
        holdings[application] = counter
        return counter
    }

    /// Takes the server off the books and gives back its claim.
    mutating func drop(_ id: ServerID) {
        guard let server = servers.removeValue(forKey: id) else { return }
        if server.state == .connecting { connectingCount -= 1 }
        if let position = idle.firstIndex(of: id) {
            idle.remove(at: position)
            publishIdle()
        }
        server.claim.giveBack()
    }

    /// Takes the server off the books for a move; its claim goes with it.
    mutating func depart(_ id: ServerID) -> MovingServer {
        guard let server = servers.removeValue(forKey: id) else { preconditionFailure("moving unknown server \(id)") }
        return MovingServer(
            id: id, openedAt: server.openedAt, generation: server.generation, claim: server.claim,
            fromReserve: server.fromReserve)
    }

    /// Opens a server here when waiters outnumber servers on their way and the bounds allow it.
    mutating func openIfUseful(now: ContinuousClock.Instant) -> ServerID? {
        // Cheapest first: a saturated pool asks at every wait, and its bound is full.
        guard runState == .running else { return nil }
        guard shared.poolSize.available > 0 else {
            if lastRefusal !== shared.poolSize { lastRefusal = shared.poolSize }
            return nil
        }
        guard waiters.count > connectingCount, !shared.loginsPaused(at: now) else { return nil }
        return open(now: now, reserve: false)
    }

    /// Takes a claim on the pool's bounds (pool_size or the reserve, and the others) and books a new server.
    mutating func open(now: ContinuousClock.Instant, reserve: Bool) -> ServerID? {
        switch ServerClaim.take(shared.bounds(reserve: reserve)) {
        case .refused(let limit):
            lastRefusal = limit
            return nil
        case .granted(let claim):
            let id = nextServerID()
            servers[id] = Server(
                id: id, state: .connecting, openedAt: now, generation: generation, claim: claim, fromReserve: reserve)
            connectingCount += 1
            return id
        }
    }

    func isPastLifetime(_ server: Server, now: ContinuousClock.Instant) -> Bool {
        limits.lifetime.map { now - server.openedAt >= $0 } ?? false
    }

    // MARK: Publishing to the other shards

    mutating func publishIdle() {
        shared.shards[loop].idle.store(idle.count, ordering: .sequentiallyConsistent)
    }

    mutating func publishWaiters() {
        let signals = shared.shards[loop]
        signals.waiting.store(waiters.count, ordering: .relaxed)
        // Other loops send servers to this one's oldest waiter that could take one: a transaction held at the
        // gate could not, and a server moved for it would sit idle here.
        let oldest = firstAdmissibleWaiter.map { shared.stamp($0.since) } ?? .max
        signals.oldestWaiter.store(oldest, ordering: .sequentiallyConsistent)
    }

    /// The first waiter here a server could go to now: while the transaction gate is closed, waiters that open
    /// a transaction take none.
    var firstAdmissibleWaiter: WaitQueue.Entry? {
        guard let first = waiters.waiting.first else { return nil }
        guard first.tag.opensTransaction, transactionGateClosed else { return first }
        return waiters.waiting.prefix(WaitQueue.scanLimit).first { !$0.tag.opensTransaction }
    }

    mutating func publishStalled() {
        shared.shards[loop].stalled.store(stalledTransactionHolders, ordering: .relaxed)
    }

    /// The loop's count of the servers here whose holders sit idle inside a transaction (every 100 ms). Servers
    /// lent for a new transaction count until then, and every server stops counting when it is given back.
    public mutating func setStalledTransactionHolders(_ stalled: Set<ServerID>) {
        var count = 0
        for index in servers.indices {
            let counted = stalled.contains(servers.keys[index]) && servers.values[index].state.isActive
            servers.values[index].countedStalled = counted
            if counted { count += 1 }
        }
        stalledTransactionHolders = count
        publishStalled()
        publishWaiters()  // the gate may have opened or closed: which waiter others serve changes with it
    }

    /// Idle servers to waiters that may take them now (after the transaction gate opened): what upkeep hands
    /// over once the stalled count changed.
    public mutating func serveWaiting(now: ContinuousClock.Instant) -> [HandoffAction] {
        var actions: [HandoffAction] = []
        while runState == .running, !idle.isEmpty, !waiters.isEmpty, let waiter = nextWaiter(now: now) {
            guard let id = takeIdle() else { break }
            switch use(id, for: waiter.tag, now: now) {
            case .assign(let id): actions.append(.assign(id, to: waiter.tag))
            case .check(let id, let tag): actions.append(.check(id, for: tag))
            }
        }
        return actions
    }
}
