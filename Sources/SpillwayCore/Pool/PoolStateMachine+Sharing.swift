/// Fair sharing between applications, and the reserve for those below their share.
extension PoolStateMachine {
    /// Servers each application holds (lent or being checked for it).
    public var serversHeldByApplication: [String: Int] {
        var held: [String: Int] = [:]
        for server in servers.values {
            if let holder = server.holder { held[holder.application, default: 0] += 1 }
        }
        return held
    }

    func weight(of application: String) -> Double {
        max(limits.applications[application]?.weight ?? 1, 0.001)
    }

    /// The waiter policy for handing a server over: nil when one application waits alone and no caps apply
    /// (plain arrival order, the fast path).
    /// While `transactionGateClosed`, it admits no waiter that opens a transaction.
    func waiterPolicy() -> WaitQueue.Policy? {
        let gate = transactionGateClosed
        guard waiters.mixesApplications || !limits.applications.isEmpty || gate else { return nil }
        let held = serversHeldByApplication
        let applications = limits.applications
        return WaitQueue.Policy(
            load: { application in Double(held[application] ?? 0) / self.weight(of: application) },
            admits: { tag in
                if gate && tag.opensTransaction { return false }
                guard let cap = applications[tag.application]?.maxServerConnections else { return true }
                return (held[tag.application] ?? 0) < cap
            })
    }

    /// Each application's fair share of the pool: pool size split by weight among the applications that
    /// hold servers or wait for one.
    public func fairShares() -> [String: Double] {
        var present = Set(serversHeldByApplication.keys)
        for entry in waiters.waiting.prefix(WaitQueue.scanLimit) { present.insert(entry.tag.application) }
        let total = present.reduce(0) { $0 + weight(of: $1) }
        guard total > 0 else { return [:] }
        var shares: [String: Double] = [:]
        for application in present { shares[application] = Double(limits.poolSize) * weight(of: application) / total }
        return shares
    }

    /// A reserve server to open now, if the pool is full and `reserveWanted` says one may (called on upkeep's
    /// 100 ms tick for pools with waiters, so the reserve arrives within a tenth of a second).
    public mutating func openReserveIfWanted(now: ContinuousClock.Instant, capacity: Int) -> OpenRequest? {
        guard runState == .running, capacity > 0, servers.count >= limits.poolSize,
              servers.count < limits.poolSize + limits.reservePoolSize,
              waiters.count > connectingCount, reserveWanted(now: now)
        else { return nil }
        let id = nextServerID()
        let loop = waiters.waiting.first?.tag.loop ?? 0
        servers[id] = Server(id: id, loop: loop, state: .connecting, openedAt: now, generation: generation)
        return OpenRequest(server: id, loop: loop)
    }

    /// Whether a reserve server may open: the oldest waiter waited reserve_pool_timeout, or a waiting
    /// application holds less than its fair share (one holding nothing never waits behind one holding all).
    func reserveWanted(now: ContinuousClock.Instant) -> Bool {
        guard limits.reservePoolSize > 0, let oldest = waiters.waiting.first else { return false }
        if let timeout = limits.reserveTimeout, now - oldest.since >= timeout { return true }
        // Transactions pile up idle on the pool (a leak) while a statement outside any transaction waits: that is
        // what the reserve is for; the gate keeps new transactions off it while the pile stays.
        // A pile-up: half of max_idle_transaction_servers, and never fewer than two.
        if stalledTransactionHolders >= max(2, limits.maxIdleTransactionServers / 2),
           waiters.waiting.prefix(WaitQueue.scanLimit).contains(where: {
               !$0.tag.opensTransaction && now - $0.since >= Self.starvedStatementWait
           })
        {
            return true
        }
        let first = oldest.tag.applicationKey
        guard waiters.waiting.prefix(WaitQueue.scanLimit).contains(where: { $0.tag.applicationKey != first })
            || servers.values.contains(where: { $0.holder.map { $0.applicationKey != first } ?? false })
        else { return false }
        let held = serversHeldByApplication
        let shares = fairShares()
        return waiters.waiting.prefix(WaitQueue.scanLimit).contains { entry in
            let application = entry.tag.application
            guard applicationAdmits(application, held: held) else { return false }
            return Double(held[application] ?? 0) < (shares[application] ?? 0)
        }
    }

    /// How long a statement outside any transaction waits, during a pile-up of idle transactions, before the
    /// reserve opens for it.
    static let starvedStatementWait = Duration.milliseconds(100)

    func applicationAdmits(_ application: String, held: [String: Int]) -> Bool {
        guard let cap = limits.applications[application]?.maxServerConnections else { return true }
        return (held[application] ?? 0) < cap
    }
}
