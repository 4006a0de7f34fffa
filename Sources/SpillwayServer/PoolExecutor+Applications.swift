import Logging
import SpillwayCore

/// Applications as a key of their own: client admission, suspected leaks, early warnings.
extension PoolExecutor {
    /// A client suspected of leaking a transaction, as upkeep found it.
    struct LeakSuspect {
        var application: String
        var since: ContinuousClock.Instant
    }

    /// Admits a logged-in client of `application` (nil) or says why not (53300).
    func admitApplication(_ client: ClientID, _ application: String) -> ApplicationBook.Refusal? {
        let runtime = config
        let limit = runtime.settings.maxClientConn
        let applicationLimit = runtime.applicationPolicies[application]?.maxClientConnections
        return state.withLockedValue { state in
            let refusal = state.applications.admit(
                application, total: state.clientConnections, limit: limit, applicationLimit: applicationLimit)
            if refusal == nil { state.clientApplications[client] = application }
            return refusal
        }
    }

    func applicationChanged(_ client: ClientID, to application: String) {
        state.withLockedValue { state in
            guard let old = state.clientApplications[client] else { return }
            state.applications.moved(from: old, to: application)
            state.clientApplications[client] = application
        }
    }

    /// A counted client closed (called from `unregister`, under the lock).
    static func applicationLeft(_ client: ClientID, state: inout State) {
        if let application = state.clientApplications.removeValue(forKey: client) {
            state.applications.left(application)
        }
        state.leakSuspects[client] = nil
        if let counted = state.countedClients.removeValue(forKey: client) {
            state.clientCounts.left(database: counted.database, user: counted.user)
        }
    }

    /// Admits a logged-in client of `database` as `user` under max_db_client_connections and
    /// max_user_client_connections (the `[databases]` and `[users]` values when above 0, else the global ones),
    /// or says why not (53300).
    func admitCounted(_ client: ClientID, database: DatabaseConfig, user: String) -> ClientCounts.Refusal? {
        let runtime = config
        let databaseLimit = database.maxDBClientConnections.flatMap { $0 > 0 ? $0 : nil }
            ?? runtime.settings.maxDBClientConnections
        let userLimit = runtime.config.users[user]?.maxUserClientConnections.flatMap { $0 > 0 ? $0 : nil }
            ?? runtime.settings.maxUserClientConnections
        return state.withLockedValue { state in
            let refusal = state.clientCounts.admit(
                database: database.name, user: user, databaseLimit: databaseLimit, userLimit: userLimit)
            if refusal == nil { state.countedClients[client] = (database.name, user) }
            return refusal
        }
    }

    /// Once a second: clients idle in a transaction past leak_warn_after become suspects (one warning each),
    /// applications whose connections pile up while their work does not are flagged, and pools near
    /// exhaustion are warned about.
    func watchForLeaks(now: ContinuousClock.Instant) {
        let settings = config.settings
        let nanos = Self.nanos()
        let warnAfter = settings.leakWarnAfter
        let (newSuspects, growth) = state.withLockedValue {
            state -> ([(ClientConnection, Duration)], [(application: String, from: Int, to: Int)]) in
            var newSuspects: [(ClientConnection, Duration)] = []
            var stillIdle = Set<ClientID>()
            if warnAfter > 0 {
                for (id, client) in state.clients {
                    guard let idle = ClientActivity(word: client.activity.load(ordering: .relaxed))
                        .idleInTransaction(at: nanos), idle >= .milliseconds(Int64(warnAfter * 1000))
                    else { continue }
                    stillIdle.insert(id)
                    if state.leakSuspects[id] == nil {
                        let application = state.clientApplications[id] ?? ""
                        state.leakSuspects[id] = LeakSuspect(application: application, since: now)
                        state.applications.leakSeen(application)
                        newSuspects.append((client, idle))
                    }
                }
            }
            for id in state.leakSuspects.keys where !stillIdle.contains(id) { state.leakSuspects[id] = nil }
            // Growth: clients per application against servers it holds (its active work).
            var held: [String: Int] = [:]
            for entry in state.pools.values {
                for (application, count) in entry.machine.serversHeldByApplication { held[application, default: 0] += count }
            }
            var counts: [String: (clients: Int, active: Int)] = [:]
            for (application, clients) in state.applications.clients {
                counts[application] = (clients, held[application] ?? 0)
            }
            state.growth.record(counts)
            let suspects = state.growth.suspects
            let fresh = suspects.filter { !state.growthReported.contains($0.application) }
            state.growthReported = Set(suspects.map(\.application))
            for suspect in fresh { state.applications.leakSeen(suspect.application) }
            return (newSuspects, fresh)
        }
        for (client, idle) in newSuspects {
            client.onLoop { client.reportSuspectedLeak(idleFor: idle) }
        }
        for suspect in growth {
            logger.warning("suspected leak: connections keep growing while work does not", metadata: [
                "app": "\(suspect.application)", "clients_before": "\(suspect.from)", "clients_now": "\(suspect.to)",
                "window_s": "\(30)",
            ])
        }
        warnAboutCrowdedPools(now: now, threshold: settings.warnPoolUsage)
    }

    /// Early warning: a pool's servers in use past warn_pool_usage, or clients waiting for over a second,
    /// logs the top three applications by servers held; recovery logs again.
    private func warnAboutCrowdedPools(now: ContinuousClock.Instant, threshold: Double) {
        let changes = state.withLockedValue { state -> [(PoolKey, Bool, String)] in
            var changes: [(PoolKey, Bool, String)] = []
            for (key, entry) in state.pools {
                let machine = entry.machine
                let size = max(machine.limits.poolSize, 1)
                let usage = Double(machine.activeCount) / Double(size)
                let waitingLong = machine.waiters.waiting.first.map { now - $0.since > .seconds(1) } ?? false
                let crowded = (threshold > 0 && usage >= threshold) || waitingLong
                let warned = state.crowdedPools.contains(key)
                guard crowded != warned else { continue }
                if crowded { state.crowdedPools.insert(key) } else { state.crowdedPools.remove(key) }
                let top = machine.serversHeldByApplication.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                    .prefix(3).map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                let detail = "in_use=\(machine.activeCount)/\(machine.limits.poolSize) waiting=\(machine.waitingCount)"
                changes.append((key, crowded, "\(detail) top_applications=\(top)"))
            }
            return changes
        }
        for (key, crowded, detail) in changes {
            if crowded {
                logger.warning("pool near exhaustion", metadata: ["pool": "\(key)", "state": "\(detail)"])
            } else {
                logger.info("pool recovered", metadata: ["pool": "\(key)", "state": "\(detail)"])
            }
        }
    }
}
