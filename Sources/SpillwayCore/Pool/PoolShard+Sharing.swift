/// Fair sharing between applications across every loop's shard, and the reserve for those below their share.
extension PoolShard {
    /// Servers `application` holds in the whole pool.
    mutating func held(by application: String) -> Int {
        holding(for: application).used
    }

    func weight(of application: String) -> Double {
        max(limits.applications[application]?.weight ?? 1, 0.001)
    }

    /// Whether `tag`'s application may take one more server (its max_server_connections, pool-wide).
    mutating func admitsApplication(_ tag: ClientTag) -> Bool {
        guard !limits.applications.isEmpty, let cap = limits.applications[tag.application]?.maxServerConnections else {
            return true
        }
        return held(by: tag.application) < cap
    }

    /// The waiter policy for handing a server over: nil when one application waits alone and no caps apply
    /// (plain arrival order, the fast path). While the transaction gate is closed it admits no waiter that
    /// opens a transaction.
    mutating func waiterPolicy() -> WaitQueue.Policy? {
        let gate = transactionGateClosed
        guard waiters.mixesApplications || !limits.applications.isEmpty || gate else { return nil }
        var load: [String: Double] = [:]
        var caps: [String: Bool] = [:]
        for entry in waiters.waiting.prefix(WaitQueue.scanLimit) where load[entry.tag.application] == nil {
            let application = entry.tag.application
            let held = held(by: application)
            load[application] = Double(held) / weight(of: application)
            if let cap = limits.applications[application]?.maxServerConnections { caps[application] = held < cap }
        }
        return WaitQueue.Policy(
            load: { load[$0] ?? 0 },
            admits: { tag in
                if gate && tag.opensTransaction { return false }
                return caps[tag.application] ?? true
            })
    }

    /// The waiter a server that became available here goes to: the best by standing and fair share.
    mutating func nextWaiter(now: ContinuousClock.Instant) -> WaitQueue.Entry? {
        let policy = waiterPolicy()
        defer { publishWaiters() }
        return waiters.popNext(preferring: loop, within: .zero, policy: policy, now: now)
    }

    /// Each application's fair share of the pool: pool_size split by weight among the applications that hold
    /// servers (that this shard has seen) or wait here.
    public mutating func fairShares() -> [String: Double] {
        var present = Set(holdings.filter { $0.value.used > 0 }.keys)
        for entry in waiters.waiting.prefix(WaitQueue.scanLimit) { present.insert(entry.tag.application) }
        let total = present.reduce(0) { $0 + weight(of: $1) }
        guard total > 0 else { return [:] }
        var shares: [String: Double] = [:]
        for application in present { shares[application] = Double(limits.poolSize) * weight(of: application) / total }
        return shares
    }

    /// A reserve server to open here now, if pool_size is used up and `reserveWanted` says one may (upkeep's
    /// 100 ms tick for shards with waiters).
    public mutating func openReserveIfWanted(now: ContinuousClock.Instant) -> ServerID? {
        guard runState == .running, shared.poolSize.available == 0, waiters.count > connectingCount,
            reserveWanted(now: now)
        else { return nil }
        return open(now: now, reserve: true)
    }

    /// Whether a reserve server may open: the oldest waiter waited reserve_pool_timeout, statements starve
    /// behind a pile-up of idle transactions, or a waiting application holds less than its fair share.
    mutating func reserveWanted(now: ContinuousClock.Instant) -> Bool {
        guard limits.reservePoolSize > 0, let oldest = waiters.waiting.first else { return false }
        if let timeout = limits.reserveTimeout, now - oldest.since >= timeout { return true }
        if shared.stalledTotal >= max(2, limits.maxIdleTransactionServers / 2),
            waiters.waiting.prefix(WaitQueue.scanLimit).contains(where: {
                !$0.tag.opensTransaction && now - $0.since >= PoolStateMachine.starvedStatementWait
            })
        {
            return true
        }
        let first = oldest.tag.applicationKey
        let othersHold = holdings.contains { $0.key.hashValue != first && $0.value.used > 0 }
        guard waiters.waiting.prefix(WaitQueue.scanLimit).contains(where: { $0.tag.applicationKey != first })
            || othersHold
        else { return false }
        let shares = fairShares()
        for entry in waiters.waiting.prefix(WaitQueue.scanLimit) {
            let application = entry.tag.application
            guard admitsApplication(entry.tag) else { continue }
            if Double(held(by: application)) < (shares[application] ?? 0) { return true }
        }
        return false
    }
}
