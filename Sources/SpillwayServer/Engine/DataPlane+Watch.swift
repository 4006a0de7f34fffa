import Logging
import SpillwayCore
import SpillwayEngine

/// Once a second, over the whole plane: applications whose connections pile up while their work does not
/// (a leak of connections rather than of transactions), and pools near exhaustion, from one gathered view.
extension DataPlane {
    struct WatchState {
        var growth = GrowthWatch()
        var growthReported: Set<String> = []
        /// Client connections per application at the last look (the growth rows of SHOW LEAKS).
        var clients: [String: Int] = [:]
        /// Pools currently warned about (warn_pool_usage).
        var crowded: Set<PoolKey> = []
        /// When the current stats period began.
        var statsPeriodStart = ContinuousClock.now
    }

    func scheduleWatch() {
        let loop = group.loops[0]
        loop.execute { [self] in
            _ = loop.schedule(at: loop.now + .seconds(1)) { [self] in
                guard !self.lifecycle.withLock({ $0.stopping }) else { return }
                self.view(now: .now) { view in self.watch(view) }
                self.scheduleWatch()
            }
        }
    }

    private func watch(_ view: ConsoleView) {
        var counts: [String: (clients: Int, active: Int)] = [:]
        for report in view.applications {
            counts[report.application] = (report.active + report.idle + report.waiting, report.held)
        }
        let fresh = watchState.withLock { state -> [(application: String, from: Int, to: Int)] in
            state.growth.record(counts)
            state.clients = counts.mapValues(\.clients)
            let suspects = state.growth.suspects
            let fresh = suspects.filter { !state.growthReported.contains($0.application) }
            state.growthReported = Set(suspects.map(\.application))
            return fresh
        }
        for suspect in fresh {
            leakSeen(suspect.application)
            logger.warning("suspected leak: connections keep growing while work does not", metadata: [
                "app": "\(suspect.application)", "clients_before": "\(suspect.from)", "clients_now": "\(suspect.to)",
                "window_s": "\(30)",
            ])
        }
        warnAboutCrowdedPools(view, threshold: runtime.settings.warnPoolUsage)
        closeStatsPeriodIfDue(now: .now)
    }

    /// Every stats_period: each loop's averages move on to the period just ended, and with log_stats each
    /// database with traffic gets one line, as PgBouncer writes.
    private func closeStatsPeriodIfDue(now: ContinuousClock.Instant) {
        let settings = runtime.settings
        let elapsed = watchState.withLock { state -> Duration? in
            let elapsed = now - state.statsPeriodStart
            guard elapsed >= .seconds(max(settings.statsPeriod, 1)) else { return nil }
            state.statsPeriodStart = now
            return elapsed
        }
        guard let elapsed else { return }
        let seconds = UInt64(max(elapsed.components.seconds, 1))
        group.gather({ [self] loop in self.shards[loop.index].closeStatsPeriod(seconds: seconds) }) { [logger] parts in
            guard settings.logStats else { return }
            var perDatabase: [String: TrafficStats] = [:]
            for part in parts { perDatabase.merge(part) { var sum = $0; sum.add($1); return sum } }
            for (database, traffic) in perDatabase.sorted(by: { $0.key < $1.key }) {
                let average = TrafficAverages(delta: traffic, seconds: seconds)
                guard average != TrafficAverages() else { continue }
                logger.info("stats", metadata: [
                    "db": "\(database)", "xacts_per_s": "\(average.transactionsPerSecond)",
                    "queries_per_s": "\(average.queriesPerSecond)", "in_bytes_per_s": "\(average.bytesReceivedPerSecond)",
                    "out_bytes_per_s": "\(average.bytesSentPerSecond)", "xact_us": "\(average.transactionMicros)",
                    "query_us": "\(average.queryMicros)", "wait_us": "\(average.waitMicros)",
                ])
            }
        }
    }

    /// Early warning: a pool's servers in use past warn_pool_usage, or clients waiting for over a second,
    /// logs the top three applications by servers held; recovery logs again.
    private func warnAboutCrowdedPools(_ view: ConsoleView, threshold: Double) {
        for pool in view.pools {
            let size = max(pool.poolSize, 1)
            let usage = Double(pool.active) / Double(size)
            let waitingLong = (pool.oldestWait ?? .zero) > .seconds(1)
            let crowded = (threshold > 0 && usage >= threshold) || waitingLong
            let changed = watchState.withLock { state -> Bool in
                guard crowded != state.crowded.contains(pool.key) else { return false }
                if crowded { state.crowded.insert(pool.key) } else { state.crowded.remove(pool.key) }
                return true
            }
            guard changed else { continue }
            let top = pool.heldByApplication.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                .prefix(3).map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let detail = "in_use=\(pool.active)/\(pool.poolSize) waiting=\(pool.waiting) top_applications=\(top)"
            if crowded {
                logger.warning("pool near exhaustion", metadata: ["pool": "\(pool.key)", "state": "\(detail)"])
            } else {
                logger.info("pool recovered", metadata: ["pool": "\(pool.key)", "state": "\(detail)"])
            }
        }
    }
}
