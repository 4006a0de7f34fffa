#if canImport(Glibc)
import Glibc
#endif
import PostgresWire
import SpillwayCore
import SpillwayEngine

/// The engine data plane as the admin console's backend: every answer is gathered from the loops (each reads
/// its own shards and drivers), every command is carried to the loops.
extension DataPlane: ConsoleBackend {
    func view(now: ContinuousClock.Instant, _ done: @escaping @Sendable (ConsoleView) -> Void) {
        let operatorState = self.operatorState.withLock { $0 }
        let leaksSeen = leakBook.withLock { $0.seen }
        let growing = watchState.withLock { $0.growthReported }
        group.gather({ [self] loop in
            self.shards[loop.index].report(now: loop.now)
        }, done: { reports in
            var view = ConsoleView()
            var pools: [PoolKey: PoolReport] = [:]
            var applications: [String: ApplicationReport] = [:]
            for report in reports {
                view.lists.clients += report.clients
                view.lists.servers += report.servers
                for pool in report.pools {
                    guard var merged = pools[pool.key] else {
                        pools[pool.key] = pool
                        continue
                    }
                    merged.clients += pool.clients
                    merged.waiting += pool.waiting
                    merged.active += pool.active
                    merged.idle += pool.idle
                    merged.connecting += pool.connecting
                    merged.testing += pool.testing
                    merged.stats.merge(pool.stats)
                    merged.heldByApplication.merge(pool.heldByApplication, uniquingKeysWith: +)
                    if let wait = pool.oldestWait { merged.oldestWait = max(merged.oldestWait ?? .zero, wait) }
                    pools[pool.key] = merged
                }
                for (name, part) in report.applications {
                    var merged = applications[name] ?? ApplicationReport(application: name)
                    merged.active += part.active
                    merged.idle += part.idle
                    merged.waiting += part.waiting
                    merged.held += part.held
                    merged.suspected += part.suspected
                    if let wait = part.maxWait { merged.maxWait = max(merged.maxWait ?? .zero, wait) }
                    applications[name] = merged
                }
            }
            view.pools = pools.values.sorted { ($0.key.database, $0.key.user) < ($1.key.database, $1.key.user) }
            view.lists.pools = view.pools.count
            view.lists.waiting = view.pools.reduce(0) { $0 + $1.waiting }
            view.pausedAll = operatorState.pausedAll
            view.paused = Set(view.pools.map(\.key.database).filter(operatorState.isPaused))
                .union(operatorState.paused)
            view.disabled = operatorState.disabled
            // A client counted idle is one neither holding a server nor waiting.
            for application in growing { applications[application]?.suspected += 1 }
            for (application, total) in leaksSeen {
                applications[application, default: ApplicationReport(application: application)].leaksTotal = total
            }
            view.applications = applications.values.map { report in
                var report = report
                report.idle = max(report.idle - report.active - report.waiting, 0)
                return report
            }.sorted { $0.application < $1.application }
            done(view)
        })
    }

    func connectionReports(servers: Bool, _ done: @escaping @Sendable ([ConnectionReport]) -> Void) {
        let wallNow = time(nil)
        group.gather({ [self] loop in
            self.shards[loop.index].connectionReports(servers: servers, now: loop.now, wallNow: wallNow)
        }, done: { lists in
            done(lists.flatMap { $0 }.sorted { $0.connectTime < $1.connectTime })
        })
    }

    /// SHOW LEAKS: clients idle in a transaction past leak_warn_after (longest idle first), then the clients
    /// reclaimed in the last ten minutes (newest first).
    func leakRows(_ done: @escaping @Sendable ([[String?]]) -> Void) {
        let reclaimed = leakBook.withLock { $0.recent.map(\.row) }
        let growth = watchState.withLock { state in
            state.growthReported.sorted().map { application -> [String?] in
                ["growing_connections", application, nil, nil, nil, nil, nil, nil, nil, nil,
                 "\(state.clients[application] ?? 0) client connections, growing while its active count does not"]
            }
        }
        group.gather({ [self] loop in self.shards[loop.index].leakRows() }) { lists in
            done(lists.flatMap { $0 }.sorted { (Double($0[9] ?? "") ?? 0) > (Double($1[9] ?? "") ?? 0) } + growth
                + reclaimed.reversed())
        }
    }

    // MARK: Commands

    func pause(database: String?) {
        operatorState.withLock { state in
            if let database { state.paused.insert(database) } else { state.pausedAll = true }
        }
        broadcast { $0.pause(database: database) }
    }

    func resume(database: String?) {
        operatorState.withLock { state in
            if let database {
                state.paused.remove(database)
            } else {
                state.pausedAll = false
                state.paused.removeAll()
            }
        }
        broadcast { $0.resume(database: database) }
    }

    /// Calls `done` on some loop with whether no matching pool has a server lent out on any loop.
    func isQuiescent(database: String?, _ done: @escaping @Sendable (Bool) -> Void) {
        group.gather({ [self] loop in self.shards[loop.index].isQuiescent(database: database) }) { all in
            done(all.allSatisfy { $0 })
        }
    }

    func setDisabled(_ disabled: Bool, database: String) {
        operatorState.withLock { state in
            if disabled { state.disabled.insert(database) } else { state.disabled.remove(database) }
        }
    }

    func isDisabled(database: String) -> Bool {
        operatorState.withLock { $0.disabled.contains(database) }
    }

    func isPaused(database: String) -> Bool {
        operatorState.withLock { $0.isPaused(database) }
    }

    func reconnect(database: String?) {
        broadcast { $0.reconnect(database: database) }
    }

    func killClient(id text: String, _ done: @escaping @Sendable (Bool) -> Void) {
        let digits = text.hasPrefix("c") ? String(text.dropFirst()) : text
        guard let raw = UInt64(digits) else { return done(false) }
        group.gather({ [self] loop in self.shards[loop.index].kill(ClientID(raw)) }) { found in
            done(found.contains(true))
        }
    }

    func kill(database: String) {
        pause(database: database)
        broadcast { shards in
            shards.killClients(database: database)
            shards.reconnect(database: database)
        }
    }

    func requestShutdown(drain: Bool) -> Bool {
        guard let request = shutdownRequest.withLock({ $0 }) else { return false }
        request(drain)
        return true
    }

    /// Runs `body` on every loop with its shards.
    func broadcast(_ body: @escaping @Sendable (LoopShards) -> Void) {
        for shards in shards {
            shards.loop.execute { body(shards) }
        }
    }
}
