#if canImport(Glibc)
import Glibc
#endif
import PostgresWire
import SpillwayCore
import SpillwayEngine

/// One loop's part of the admin console: what it holds (reports) and the operator commands, applied to its
/// shards. Every method runs on the loop.
extension LoopShards {
    /// What this loop holds, merged with the other loops' into the console's view.
    struct LoopReport: Sendable {
        var pools: [PoolReport] = []
        var clients = 0
        var servers = 0
        var applications: [String: ApplicationReport] = [:]
    }

    func report(now: ContinuousClock.Instant) -> LoopReport {
        var report = LoopReport()
        var clientsPerPool: [PoolKey: Int] = [:]
        func touch(_ application: String, _ change: (inout ApplicationReport) -> Void) {
            change(&report.applications[application, default: ApplicationReport(application: application)])
        }
        for client in clients.values {
            guard case .ready = client.phase, let pool = client.pool else { continue }
            report.clients += 1
            clientsPerPool[pool, default: 0] += 1
            touch(client.tag.application) { $0.idle += 1 }
        }
        for (key, site) in sites {
            var active = 0
            var testing = 0
            var held: [String: Int] = [:]
            for server in site.shard.servers.values {
                switch server.state {
                case .active:
                    active += 1
                    if let holder = server.holder {
                        touch(holder.application) { $0.held += 1; $0.active += 1 }
                        held[holder.application, default: 0] += 1
                    }
                case .checking, .resetting: testing += 1
                case .idle, .connecting: break
                }
            }
            for waiter in site.shard.waiters.waiting {
                touch(waiter.tag.application) { application in
                    application.waiting += 1
                    application.maxWait = max(application.maxWait ?? .zero, now - waiter.since)
                }
            }
            report.servers += site.shard.serverCount
            let mode = runtime.config.database(named: key.database).map { runtime.config.poolMode(database: $0, user: key.user) }
            report.pools.append(PoolReport(
                key: key, mode: mode ?? runtime.settings.poolMode, clients: clientsPerPool[key] ?? 0,
                waiting: site.shard.waitingCount, active: active, idle: site.shard.idleCount,
                connecting: site.shard.connectingCount, testing: testing,
                oldestWait: site.shard.waiters.waiting.first.map { now - $0.since }, poolSize: site.shard.limits.poolSize,
                target: site.info.target, stats: site.stats, heldByApplication: held))
        }
        for (application, count) in suspects() { touch(application) { $0.suspected += count } }
        return report
    }

    /// SHOW CLIENTS (logged-in clients and console users) or SHOW SERVERS rows of this loop.
    func connectionReports(servers: Bool, now: ContinuousClock.Instant, wallNow: time_t) -> [ConnectionReport] {
        func wall(_ instant: ContinuousClock.Instant) -> time_t { wallNow - time_t((now - instant).components.seconds) }
        if servers {
            return sites.values.flatMap { site in
                site.servers.values.map { server -> ConnectionReport in
                    let shardState = site.shard.servers[server.id]?.state
                    var link = ""
                    let state: String
                    switch shardState {
                    case .active(let holder)?:
                        state = "active"
                        link = clients[holder].map(ConnectionReport.pointer) ?? ""
                    case .idle?: state = "idle"
                    case .checking?, .resetting?: state = "tested"
                    case .connecting?, nil: state = "new"
                    }
                    let (address, port) = Self.columns(server.target.address)
                    let (local, localPort) = Self.columns(try? server.connection?.socket.localAddress())
                    return ConnectionReport(
                        type: "S", user: server.key.user, database: server.key.database, state: state,
                        address: address, port: port, localAddress: local, localPort: localPort,
                        connectTime: time_t(server.connectedAtWall), requestTime: time_t(server.lentAtWall), wait: .zero,
                        pointer: ConnectionReport.pointer(server), link: link,
                        remotePID: server.session.backendKey?.processID ?? 0,
                        applicationName: server.session.tracked["application_name"] ?? "")
                }
            }
        }
        return clients.values.compactMap { client -> ConnectionReport? in
            var state = "active"
            var wait = Duration.zero
            switch client.phase {
            case .ready:
                if case .waiting(let since) = client.session.state {
                    state = "waiting"
                    wait = now - since
                }
            case .fetchingParameters: state = "waiting"
            case .console, .consoleBusy: break
            default: return nil
            }
            let (local, localPort) = Self.columns(try? client.connection.socket.localAddress())
            return ConnectionReport(
                type: "C", user: client.user, database: client.databaseName, state: state, address: client.peerHost,
                port: Int(client.peerPort), localAddress: local, localPort: localPort,
                connectTime: wall(client.connectedAt), requestTime: wall(client.connectedAt), wait: wait,
                pointer: ConnectionReport.pointer(client), link: client.server.map(ConnectionReport.pointer) ?? "",
                remotePID: 0, applicationName: client.wantedParameters["application_name"] ?? "")
        }
    }

    private static func columns(_ address: NetworkAddress?) -> (String, Int) {
        guard let address, address.family != .unix else { return ("unix", 0) }
        return (address.host, address.port ?? 0)
    }

    private static func columns(_ address: ServerTarget.Address) -> (String, Int) {
        switch address {
        case .tcp(let host, let port): (host, port)
        case .unix: ("unix", 0)
        }
    }

    /// Every stats_period (all loops at once): each pool's period ends here; its traffic per database.
    func closeStatsPeriod(seconds: UInt64) -> [String: TrafficStats] {
        var perDatabase: [String: TrafficStats] = [:]
        for (key, site) in sites {
            site.stats.closePeriod(seconds: seconds)
            perDatabase[key.database, default: TrafficStats()].add(site.stats.lastPeriod)
        }
        return perDatabase
    }

    // MARK: Operator commands

    /// PAUSE (nil: every pool): the matching shards lend no more servers.
    func pause(database: String?) {
        for (key, site) in sites where database == nil || key.database == database { site.shard.pause() }
    }

    /// True when no matching shard here has a server lent out.
    func isQuiescent(database: String?) -> Bool {
        sites.allSatisfy { key, site in (database != nil && key.database != database) || site.shard.isQuiescent }
    }

    /// RESUME: the matching shards lend again; waiters get idle servers, servers open for the rest.
    func resume(database: String?) {
        let now = loop.now
        for (key, site) in sites where database == nil || key.database == database {
            let resumed = site.shard.resume(now: now)
            for handoff in resumed.handoffs { self.handoff(handoff, in: site) }
            for id in resumed.open { open(id, in: site) }
        }
    }

    /// RECONNECT: idle servers of the matching pools close now, the others when their clients release them.
    func reconnect(database: String?) {
        for (key, site) in sites where database == nil || key.database == database {
            for id in site.shard.reconnect() { site.servers.removeValue(forKey: id)?.close(reason: "RECONNECT") }
        }
    }

    /// KILL db: the database's clients here get FATAL 57P01.
    func killClients(database: String) {
        for client in Array(clients.values) where client.pool?.database == database {
            client.fatal(.adminShutdown, "terminating connection due to administrator command")
        }
    }

    /// KILL_CLIENT: the client, if it is on this loop.
    func kill(_ id: ClientID) -> Bool {
        guard let client = clients[id], !client.isClosed else { return false }
        client.fatal(.adminShutdown, "terminating connection due to administrator command")
        return true
    }

    /// A new configuration (RELOAD, SET): new logins here use it; each shard takes its pool's new limits.
    func apply(_ next: RuntimeConfig) {
        runtime = next
        for (key, site) in sites {
            guard let database = next.config.database(named: key.database) else { continue }
            site.shard.limits = next.limits(database: database, user: key.user)
        }
    }
}
