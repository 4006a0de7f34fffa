/// Idle-in-transaction reclaim: servers held by clients sitting idle inside a transaction go back first.
extension PoolStateMachine {
    /// A server to take back from its holder: the client gets 25P03 and is closed, the server is rolled back.
    public struct Reclaim: Sendable, Equatable {
        public var server: ServerID
        public var client: ClientID
        /// How long the client has been idle inside its transaction.
        public var idleFor: Duration
        public init(server: ServerID, client: ClientID, idleFor: Duration) {
            self.server = server
            self.client = client
            self.idleFor = idleFor
        }
    }

    /// While clients wait, holders idle in a transaction beyond `maxIdleTransactionServers` are reclaimed,
    /// longest idle first, as many as there are waiters, but only those idle for `reclaimAfter` or longer. `idleFor`: how long a client has been idle inside its
    /// transaction, nil when it is not. The chosen servers are marked until released or `reclaimAbandoned`.
    public mutating func reclaimIdleTransactions(idleFor: (ClientID) -> Duration?) -> [Reclaim] {
        guard runState == .running, !waiters.isEmpty else { return [] }
        var holders: [Reclaim] = []
        var marked = 0
        for server in servers.values {
            guard case .active(let client) = server.state else { continue }
            if server.reclaiming {
                marked += 1
                continue
            }
            if let idle = idleFor(client) { holders.append(Reclaim(server: server.id, client: client, idleFor: idle)) }
        }
        // Only holders idle past reclaimAfter may lose their server; the others still count as idle holders.
        let eligible = holders.filter { $0.idleFor >= limits.reclaimAfter }
        // Holders already being reclaimed still count as idle until their server is back.
        // A transaction held back by the gate needs one stalled holder gone even at the cap, not only past it.
        let gated = transactionGateClosed && waiters.waiting.prefix(WaitQueue.scanLimit).contains { $0.tag.opensTransaction }
        let excess = holders.count + marked - limits.maxIdleTransactionServers + (gated ? 1 : 0)
        // Marked servers already cover part of both the excess and the waiters.
        let wanted = min(excess, waiters.count) - marked
        guard wanted > 0 else { return [] }
        let chosen = eligible.sorted { $0.idleFor > $1.idleFor }.prefix(wanted)
        for reclaim in chosen { servers[reclaim.server]?.reclaiming = true }
        return Array(chosen)
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
        servers[id]?.reclaiming = false
    }
}
