import PostgresWire
import SpillwayCore
import SpillwayEngine

/// The leak guard on one loop: every client of a shard lives on the shard's loop, so each check reads the
/// clients directly and acts at once — no published activity, no second look.
extension LoopShards {
    /// Every 100 ms from upkeep: holders idle in a transaction give their servers back while the pool's clients
    /// wait past max_idle_transaction_servers, or past idle_transaction_timeout; suspects past leak_warn_after
    /// are logged once per transaction. Once a second: client_idle_timeout and query_timeout.
    func guardLeaks(now: ContinuousClock.Instant) {
        let nanos = loop.nanos
        let settings = runtime.settings
        let idleFor: (ClientID) -> Duration? = { [clients] id in clients[id]?.idleInTransaction(at: nanos) }
        for site in sites.values {
            let limit = site.shard.limits.maxIdleTransactionServers
            for reclaim in site.shard.reclaimIdleTransactions(idleFor: idleFor) {
                carryOut(reclaim, in: site, reason: .contention(limit: limit, pool: site.info.key))
            }
            if settings.idleTransactionTimeout > 0 {
                let timeout = Duration.milliseconds(Int64(settings.idleTransactionTimeout * 1000))
                for reclaim in site.shard.idleTransactionsPast(timeout, idleFor: idleFor) {
                    carryOut(reclaim, in: site, reason: .timeout(seconds: settings.idleTransactionTimeout))
                }
            }
            guard settings.leakWarnAfter > 0 else { continue }
            let warnAfter = Duration.milliseconds(Int64(settings.leakWarnAfter * 1000))
            for server in site.shard.servers.values {
                guard case .active(let holder) = server.state, let client = clients[holder],
                    let idle = client.idleInTransaction(at: nanos), idle >= warnAfter,
                    let open = client.openTransaction, !open.reported
                else { continue }
                open.reported = true
                plane.leakSeen(client.tag.application)
                client.reportSuspectedLeak(idleFor: idle)
            }
        }
        guard now >= nextClientTimeoutScan else { return }
        nextClientTimeoutScan = now + .seconds(1)
        let clientIdle = settings.clientIdleTimeout
        let queryTimeout = settings.queryTimeout
        guard clientIdle > 0 || queryTimeout > 0 else { return }
        for client in Array(clients.values) {
            guard case .ready = client.phase else { continue }
            if client.requestAt == 0 {
                guard clientIdle > 0, client.server == nil || !client.session.isIdleInTransaction,
                    nanos &- client.readyAt >= UInt64(clientIdle * 1e9)
                else { continue }
                client.idleTimedOut(after: clientIdle)
            } else if queryTimeout > 0, let server = client.server, nanos &- client.requestAt >= UInt64(queryTimeout * 1e9) {
                client.queryTimedOut(after: queryTimeout)
                plane.cancelQuery(on: server, from: self)
            }
        }
    }

    /// Takes the server back from its holder (still idle: checked on this loop, now).
    private func carryOut(_ reclaim: PoolShard.Reclaim, in site: PoolSite, reason: ReclaimReason) {
        guard let client = clients[reclaim.client], client.server?.id == reclaim.server,
            client.idleInTransaction(at: loop.nanos) != nil
        else {
            site.shard.reclaimAbandoned(reclaim.server)
            return
        }
        client.reclaim(idleFor: reclaim.idleFor, reason: reason)
    }

    /// This loop's SHOW LEAKS rows: the suspects, clients still idle in the transaction upkeep reported.
    func leakRows() -> [[String?]] {
        let nanos = loop.nanos
        return clients.values.compactMap { client in
            guard client.openTransaction?.reported == true else { return nil }
            return client.leakRow(now: nanos)
        }
    }

    /// Suspects per application here (SHOW APPLICATIONS).
    func suspects() -> [String: Int] {
        let nanos = loop.nanos
        var counts: [String: Int] = [:]
        for client in clients.values where client.openTransaction?.reported == true {
            if client.idleInTransaction(at: nanos) != nil { counts[client.tag.application, default: 0] += 1 }
        }
        return counts
    }
}

/// Why a client loses its server.
enum ReclaimReason: Sendable {
    /// Others waited while more than max_idle_transaction_servers servers sat idle in transactions.
    case contention(limit: Int, pool: PoolKey)
    /// idle_transaction_timeout passed.
    case timeout(seconds: Double)

    var logName: String {
        switch self {
        case .contention: "max_idle_transaction_servers"
        case .timeout: "idle_transaction_timeout"
        }
    }
}
