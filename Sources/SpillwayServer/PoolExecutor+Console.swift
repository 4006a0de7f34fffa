import NIOCore
import PostgresWire
import SpillwayCore

/// The SwiftNIO data plane as the admin console's backend: its answers are read under the executor's lock (or,
/// for connections, on each connection's loop).
extension PoolExecutor: ConsoleBackend {
    var runtime: RuntimeConfig { config }

    func view(now: ContinuousClock.Instant, _ done: @escaping @Sendable (ConsoleView) -> Void) {
        let pools = poolReports(now: now)
        let counts = listCounts()
        let paused = Set(pools.map(\.key.database).filter { isPaused(database: $0) })
        let disabled = state.withLockedValue { $0.disabled }
        done(ConsoleView(
            pools: pools, lists: ListCounts(pools: counts.pools, clients: counts.clients, servers: counts.servers,
                waiting: counts.waiting),
            pausedAll: isPausedAll, paused: paused, disabled: disabled, applications: applicationReports(now: now)))
    }

    func connectionReports(servers: Bool, _ done: @escaping @Sendable ([ConnectionReport]) -> Void) {
        connectionReports(servers: servers, on: loops[0]).whenSuccess(done)
    }

    func leakRows(_ done: @escaping @Sendable ([[String?]]) -> Void) {
        leakRows(on: loops[0]).whenSuccess(done)
    }

    func killClient(id: String, _ done: @escaping @Sendable (Bool) -> Void) {
        done(killClient(id: id))
    }

    func requestShutdown(drain: Bool) -> Bool {
        guard let request = shutdownRequest.withLockedValue({ $0 }) else { return false }
        request(drain)
        return true
    }
}

extension PoolExecutor {
    func applicationReports(now: ContinuousClock.Instant) -> [ApplicationReport] {
        state.withLockedValue { state in
            var reports: [String: ApplicationReport] = [:]
            func touch(_ application: String, _ change: (inout ApplicationReport) -> Void) {
                change(&reports[application, default: ApplicationReport(application: application)])
            }
            for (application, clients) in state.applications.clients { touch(application) { $0.idle = clients } }
            for entry in state.pools.values {
                for (application, held) in entry.machine.serversHeldByApplication {
                    touch(application) { $0.held += held; $0.active += held }
                }
                for waiter in entry.machine.waiters.waiting {
                    touch(waiter.tag.application) { report in
                        report.waiting += 1
                        let waited = now - waiter.since
                        report.maxWait = max(report.maxWait ?? .zero, waited)
                    }
                }
            }
            for suspect in state.leakSuspects.values { touch(suspect.application) { $0.suspected += 1 } }
            for application in state.growthReported { touch(application) { $0.suspected += 1 } }
            for (application, total) in state.applications.leaksSeen { touch(application) { $0.leaksTotal = total } }
            return reports.values.map { report in
                var report = report
                report.idle = max(report.idle - report.active - report.waiting, 0)
                return report
            }.sorted { $0.application < $1.application }
        }
    }

    /// A client whose server the leak guard took back: kept (the last 100, for 10 minutes) so SHOW LEAKS still
    /// names it after it is gone, and counted against its application.
    struct ReclaimRecord {
        var at: ContinuousClock.Instant
        var row: [String?]
    }

    static let reclaimsKept = 100
    static let reclaimsKeptFor = Duration.seconds(600)

    func recordReclaimed(_ row: [String?], application: String) {
        let now = ContinuousClock.now
        state.withLockedValue { state in
            state.applications.leakSeen(application)
            state.recentReclaims.removeAll { now - $0.at > Self.reclaimsKeptFor }
            if state.recentReclaims.count >= Self.reclaimsKept { state.recentReclaims.removeFirst() }
            state.recentReclaims.append(ReclaimRecord(at: now, row: row))
        }
    }

    /// SHOW LEAKS rows: each suspect client read on its own loop, then growing applications, then clients
    /// reclaimed in the last ten minutes (newest first).
    func leakRows(on loop: EventLoop) -> EventLoopFuture<[[String?]]> {
        let now = Self.nanos()
        var perLoop: [ObjectIdentifier: (EventLoop, [@Sendable () -> [String?]?])] = [:]
        let growth = state.withLockedValue { state -> [[String?]] in
            for id in state.leakSuspects.keys {
                guard let client = state.clients[id] else { continue }
                perLoop[ObjectIdentifier(client.loop), default: (client.loop, [])].1.append { client.leakRow(now: now) }
            }
            let clients = state.applications.clients
            return state.growthReported.sorted().map { application in
                ["growing_connections", application, nil, nil, nil, nil, nil, nil, nil, nil,
                 "\(clients[application] ?? 0) client connections, growing while its active count does not"]
            }
        }
        let reclaimed = state.withLockedValue { $0.recentReclaims.map(\.row) }
        let futures = perLoop.values.map { target, readers in target.submit { readers.compactMap { $0() } } }
        return EventLoopFuture.whenAllSucceed(futures, on: loop).map { lists in
            lists.flatMap { $0 }.sorted { (Double($0[9] ?? "") ?? 0) > (Double($1[9] ?? "") ?? 0) } + growth
                + reclaimed.reversed()
        }
    }
}

extension ClientConnection {
    /// This client's SHOW LEAKS row, or nil if it is no longer idle in a transaction.
    func leakRow(now: UInt64, kind: String = "idle_in_transaction") -> [String?]? {
        guard case .ready = phase, session.isIdleInTransaction else { return nil }
        let facts = leakFacts(now: now)
        let (address, port) = addressAndPort
        return [
            kind, tag.application, userForLog, databaseForLog, address, port.map { "\($0)" },
            "\(id)", facts.connected, facts.inTransaction, facts.idle, lastStatementForLog,
        ]
    }
}

extension ClientConnection {
    /// The client's IP address and port (nil port on the Unix socket).
    var addressAndPort: (String, Int?) {
        guard let address = context?.remoteAddress, let ip = address.ipAddress else { return ("unix", nil) }
        return (ip, address.port)
    }
}
