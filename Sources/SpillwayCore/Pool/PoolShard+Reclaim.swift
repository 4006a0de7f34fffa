/// Idle-in-transaction reclaim across shards: while clients wait anywhere in the pool, holders idle in a
/// transaction beyond max_idle_transaction_servers give their servers back first.
extension PoolShard {
    public typealias Reclaim = PoolStateMachine.Reclaim

    /// Holders on this shard idle in a transaction for `reclaimAfter` or longer, longest first, reclaimed while
    /// the pool's stalled holders exceed `maxIdleTransactionServers` and clients wait. The pool-wide number
    /// marked is bounded by `PoolShared.reclaims`, so shards reclaiming at once never take more than wanted.
    /// `idleFor`: how long a client has been idle inside its transaction, nil when it is not.
    public mutating func reclaimIdleTransactions(idleFor: (ClientID) -> Duration?) -> [Reclaim] {
        guard runState == .running else { return [] }
        let waiting = shared.waitingTotal
        guard waiting > 0 else { return [] }
        var eligible: [Reclaim] = []
        for server in servers.values where !server.reclaiming {
            guard case .active(let client) = server.state, let idle = idleFor(client), idle >= limits.reclaimAfter
            else { continue }
            eligible.append(Reclaim(server: server.id, client: client, idleFor: idle))
        }
        guard !eligible.isEmpty else { return [] }
        // A transaction held back by the gate needs one stalled holder gone even at the cap, not only past it.
        let gated = transactionGateClosed && waiters.waiting.prefix(WaitQueue.scanLimit).contains { $0.tag.opensTransaction }
        let excess = shared.stalledTotal - limits.maxIdleTransactionServers + (gated ? 1 : 0)
        shared.reclaims.setLimit(max(min(excess, waiting), 0))
        var chosen: [Reclaim] = []
        for reclaim in eligible.sorted(by: { $0.idleFor > $1.idleFor }) {
            guard shared.reclaims.tryTake() else { break }
            servers[reclaim.server]?.reclaiming = true
            servers[reclaim.server]?.holdsReclaimMark = true
            chosen.append(reclaim)
        }
        return chosen
    }

    /// Holders idle in a transaction for `timeout` or longer (idle_transaction_timeout), marked like reclaims.
    public mutating func idleTransactionsPast(_ timeout: Duration, idleFor: (ClientID) -> Duration?) -> [Reclaim] {
        var expired: [Reclaim] = []
        for server in servers.values where !server.reclaiming {
            guard case .active(let client) = server.state, let idle = idleFor(client), idle >= timeout else { continue }
            expired.append(Reclaim(server: server.id, client: client, idleFor: idle))
        }
        for reclaim in expired { servers[reclaim.server]?.reclaiming = true }
        return expired
    }

    /// The holder was no longer idle when the reclaim reached it: the server stays with it.
    public mutating func reclaimAbandoned(_ id: ServerID) {
        guard let index = servers.index(forKey: id) else { return }
        servers.values[index].reclaiming = false
        if servers.values[index].holdsReclaimMark {
            servers.values[index].holdsReclaimMark = false
            shared.reclaims.giveBack()
        }
    }
}
