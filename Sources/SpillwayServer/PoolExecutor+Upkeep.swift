import Logging
import NIOCore
import SpillwayCore

/// Periodic upkeep: idle servers closed and min_pool_size kept, waiters past query_wait_timeout answered,
/// stats periods closed, the leak guard's timeouts and watches run; and shutdown's closing of everything.
extension PoolExecutor {

    /// Closes idle servers past their timeouts and opens servers up to min_pool_size.
    func maintain() {
        let now = ContinuousClock.now
        let (close, open, timedOut) = state.withLockedValue {
            state -> ([ServerConnection], [OpenWork], [(ClientConnection, PoolKey, String)]) in
            var close: [ServerConnection] = []
            var open: [OpenWork] = []
            var timedOut: [(ClientConnection, PoolKey, String)] = []
            for key in Array(state.pools.keys) {
                let room = capacity(for: key, in: &state)
                guard let upkeep = state.withPool(key, { $0.machine.maintain(now: now, capacity: room) }) else { continue }
                for id in upkeep.close { if let s = state.servers.removeValue(forKey: id) { close.append(s) } }
                for request in upkeep.open {
                    open.append(makeServer(request.server, loop: request.loop, key: key, state: &state))
                }
                let reason = upkeep.timedOut.isEmpty ? "" : limitReached(key, in: &state)
                for tag in upkeep.timedOut {
                    state.wanted[tag.client] = nil
                    if let client = state.clients[tag.client] { timedOut.append((client, key, reason)) }
                }
            }
            return (close, open, timedOut)
        }
        for server in close { server.close() }
        for work in open { self.open(work) }
        closeStatsPeriodIfDue(now: now)
        enforceClientTimeouts()
        notifyLongWaits(now: now)
        watchForLeaks(now: now)
        for (client, key, reason) in timedOut {
            logger.warning("client waited too long for a server", metadata: [
                "client": "\(client.id)", "pool": "\(key)", "limit": "\(reason)",
            ])
            client.onLoop { client.waitTimedOut(limit: reason) }
        }
    }

    /// Every stats_period: the averages move on to the period just ended, and with log_stats each database with
    /// traffic gets one line, as PgBouncer writes.
    func closeStatsPeriodIfDue(now: ContinuousClock.Instant) {
        let settings = config.settings
        let period = Duration.seconds(settings.statsPeriod)
        let averages: [String: TrafficAverages]? = state.withLockedValue { state in
            let elapsed = now - state.statsPeriodStart
            guard elapsed >= period else { return nil }
            state.statsPeriodStart = now
            var perDatabase: [String: TrafficStats] = [:]
            for index in state.pools.indices {
                state.pools.values[index].stats.closePeriod(seconds: UInt64(elapsed.components.seconds))
                perDatabase[state.pools.keys[index].database, default: TrafficStats()]
                    .add(state.pools.values[index].stats.lastPeriod)
            }
            return perDatabase.mapValues { TrafficAverages(delta: $0, seconds: UInt64(elapsed.components.seconds)) }
        }
        guard settings.logStats, let averages else { return }
        for (database, average) in averages.sorted(by: { $0.key < $1.key }) where average != TrafficAverages() {
            logger.info("stats", metadata: [
                "db": "\(database)", "xacts_per_s": "\(average.transactionsPerSecond)",
                "queries_per_s": "\(average.queriesPerSecond)", "in_bytes_per_s": "\(average.bytesReceivedPerSecond)",
                "out_bytes_per_s": "\(average.bytesSentPerSecond)", "xact_us": "\(average.transactionMicros)",
                "query_us": "\(average.queryMicros)", "wait_us": "\(average.waitMicros)",
            ])
        }
    }

    /// Closes every logged-in client with FATAL 57P01 (shutdown).
    func closeAllClients() {
        let clients = state.withLockedValue { Array($0.clients.values) }
        for client in clients { client.onLoop { client.closeByAdministrator() } }
    }

    /// Closes every server connection (shutdown).
    func closeAllServers() {
        let servers = state.withLockedValue { Array($0.servers.values) }
        for server in servers { server.close() }
    }

    /// Pool counters for tests.
    func poolSnapshot(_ key: PoolKey) -> (servers: Int, idle: Int, active: Int, waiting: Int)? {
        state.withLockedValue { state in
            state.pools[key].map { ($0.machine.serverCount, $0.machine.idleCount, $0.machine.activeCount, $0.machine.waitingCount) }
        }
    }

    /// query_wait_notify: clients waiting for a server longer than it are told once (each checks its own flag).
    func notifyLongWaits(now: ContinuousClock.Instant) {
        let seconds = config.settings.queryWaitNotify
        guard seconds > 0 else { return }
        let after = Duration.milliseconds(Int64(seconds * 1000))
        let waiting = state.withLockedValue { state -> [ClientConnection] in
            var found: [ClientConnection] = []
            for entry in state.pools.values {
                for waiter in entry.machine.waiters.waiting where now - waiter.since >= after {
                    if let client = state.clients[waiter.tag.client] { found.append(client) }
                }
            }
            return found
        }
        for client in waiting { client.onLoop { client.waitedLong() } }
    }
}
