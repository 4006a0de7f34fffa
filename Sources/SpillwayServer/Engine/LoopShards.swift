import Logging
import PostgresWire
import SpillwayCore
import SpillwayEngine

/// Everything one loop owns of the data plane: its shard of every pool, the server drivers on it, the client
/// drivers on it. Touched only on its loop; other loops reach it through `loop.execute`.
///
/// It owns the servers (their driver's owner) and runs the shards' actions. Hand-offs between drivers are
/// queued on the loop or happen from another event, never inside a driver's own call.
///
/// `@unchecked Sendable` only so that other loops can post tasks that run on its loop; nothing else crosses.
final class LoopShards: ServerDriverOwner, @unchecked Sendable {
    let loop: IOLoop
    unowned let plane: DataPlane
    private(set) var sites: [PoolKey: PoolSite] = [:]
    /// Clients on this loop, by ID: who a server is handed to.
    private(set) var clients: [ClientID: ClientDriver] = [:]
    /// The configuration of new logins and new servers on this loop (replaced by RELOAD and SET).
    var runtime: RuntimeConfig
    let logger: Logger
    /// Hand-offs decided inside a driver's call, run after it returns: one loop task per iteration drains them
    /// (a closure per transaction showed up in profiles).
    private var pending: [Pending] = []
    private var pendingScheduled = false
    /// Servers reading their host's connection budget before first use.
    var readingBudget: Set<ServerID> = []
    /// When upkeep next looks at client_idle_timeout and query_timeout.
    var nextClientTimeoutScan = ContinuousClock.Instant.now

    private enum Pending {
        case lend(ServerID, PoolSite, ClientID, ClientDriver?)
        case release(ServerDriver, statements: [String], reusable: Bool)
        case refuse(ClientDriver, ServerFailure)
    }

    init(loop: IOLoop, plane: DataPlane, runtime: RuntimeConfig, logger: Logger) {
        self.loop = loop
        self.plane = plane
        self.runtime = runtime
        self.logger = logger
    }

    // MARK: Clients

    /// A client connected on this loop.
    func accept(_ socket: SpillwayEngine.Socket, peer: NetworkAddress) {
        if peer.family != .unix {
            try? socket.setNoDelay()
            TCPOptions.apply(to: socket, isTCP: true, settings: runtime.settings, logger: logger)
        }
        let client: ClientDriver
        do {
            client = try ClientDriver(
                id: plane.nextClientID(), socket: socket, peer: peer, loop: loop, shards: self, runtime: runtime)
        } catch {
            socket.close()
            return
        }
        clients[client.id] = client
        logger.trace("client accepted", metadata: ["client": "\(client.id)", "loop": "\(loop.index)", "fd": "\(socket.fd)"])
        client.start(admitted: plane.clientConnections.tryTake())
    }

    /// The client is gone: it is forgotten here and by the plane.
    func clientGone(_ client: ClientDriver) {
        guard clients.removeValue(forKey: client.id) != nil else { return }
        if client.admitted { plane.clientConnections.giveBack() }
        if let key = client.cancelKey { plane.unregister(key) }
    }

    /// The pool `key` on this loop, created with the pool-wide state on first use.
    func site(for key: PoolKey, database: DatabaseConfig, user: String, credentials: ServerCredentials) -> PoolSite {
        if let site = sites[key] {
            site.info.offer(credentials)
            return site
        }
        let info = plane.poolInfo(key, database: database, user: user)
        info.offer(credentials)
        let site = PoolSite(
            shard: PoolShard(key: key, loop: loop.index, limits: info.limits, shared: info.shared) { [plane] in
                plane.nextServerID()
            },
            info: info)
        if plane.isPaused(database: key.database) { site.shard.pause() }
        site.waitTimer = plane.metrics?.waitTimer(for: key)
        sites[key] = site
        return site
    }

    // MARK: Lending

    /// The client asks for a server of `key`: lent now, or the client waits and hears later.
    func acquire(for client: ClientDriver, key: PoolKey) {
        guard let site = client.site ?? sites[key] else { return }
        switch site.shard.acquire(client.tag, now: loop.now) {
        case .assign(let id):
            // Lent after the client's read returns: it asked from inside it.
            defer_(.lend(id, site, client.id, client))
        case .check(let id):
            site.servers[id]?.runStatements([runtime.settings.serverCheckQuery], purpose: .check)
        case .openAndWait(let id):
            open(id, in: site)
        case .waitAndSteal(let from):
            requestSteal(key, from: from)
        case .wait:
            break
        case .refuse:
            let failure = site.info.lastLoginFailure ?? ServerFailure(message: "no server available for pool \(key)")
            defer_(.refuse(client, failure))
        }
    }

    /// A waiting client left.
    func cancelWait(_ client: ClientID, key: PoolKey) {
        sites[key]?.shard.cancelWait(client)
    }

    /// The client gives its server back, after `statements` (ROLLBACK, server_reset_query); `reusable: false`
    /// closes it. Runs as a loop task: the client releases from inside the server's read.
    func release(_ server: ServerDriver, statements: [String], reusable: Bool) {
        defer_(.release(server, statements: statements, reusable: reusable))
    }

    /// Queues a hand-off to run after the current driver call, in order with the others.
    private func defer_(_ item: Pending) {
        pending.append(item)
        guard !pendingScheduled else { return }
        pendingScheduled = true
        loop.enqueue { [self] in self.runPending() }
    }

    private func runPending() {
        // Items queued while running are run too, in the same pass.
        var index = 0
        while index < pending.count {
            switch pending[index] {
            case .lend(let id, let site, let clientID, let client): lend(id, in: site, to: clientID, driver: client)
            case .release(let server, let statements, let reusable):
                releaseNow(server, statements: statements, reusable: reusable)
            case .refuse(let client, let failure): client.acquireFailed(failure)
            }
            index += 1
        }
        pending.removeAll(keepingCapacity: true)
        pendingScheduled = false
    }

    private func releaseNow(_ server: ServerDriver, statements: [String], reusable: Bool) {
        guard let site = sites[server.key] else { return }
        let action = site.shard.release(server.id, needsReset: !statements.isEmpty, reusable: reusable, now: loop.now)
        switch action {
        case .reset:
            _ = server.release(statements: statements)
        case .close(let id, let open):
            site.servers[id] = nil
            server.close(reason: reusable ? "server_lifetime or RECONNECT" : "not reusable after its client")
            if let open { self.open(open, in: site) }
        default:
            _ = server.release(statements: [])
            handoff(action, in: site)
        }
    }

    /// Lends server `id` to the waiting `client`.
    private func lend(_ id: ServerID, in site: PoolSite, to clientID: ClientID, driver: ClientDriver? = nil) {
        guard let server = site.servers[id] else { return }
        guard let client = driver ?? clients[clientID], !client.isClosed else {
            // The client left between the shard's choice and now: the server goes back.
            let action = site.shard.release(id, needsReset: false, now: loop.now)
            handoff(action, in: site)
            return
        }
        let sync = client.wantedParameters.setStatement(toMatch: server.session.tracked)
        switch server.assign(to: clientID, sync: sync, sink: client) {
        case .attached:
            client.serverAttached(server, synced: nil)
        case .syncing:
            break  // serverAttached or serverSyncFailed follows
        case .refused(let failure):
            logger.warning("server could not be lent", metadata: ["server": "\(id)", "reason": "\(failure)"])
            site.servers[id] = nil
            server.close(reason: "could not be lent")
            let loss = site.shard.serverLost(id, loginFailed: false, now: loop.now)
            applyLoss(loss, in: site, failure: failure)
            if case .waiting = client.session.state, let pool = client.pool { acquire(for: client, key: pool) }
        }
    }

    /// Carries out what a shard decided for a server that became available.
    func handoff(_ action: PoolShard.HandoffAction, in site: PoolSite) {
        switch action {
        case .assign(let id, let tag):
            lend(id, in: site, to: tag.client)
        case .check(let id, _):
            site.servers[id]?.runStatements([runtime.settings.serverCheckQuery], purpose: .check)
        case .idle:
            break
        case .close(let id, let open):
            site.servers.removeValue(forKey: id)?.close(reason: "not needed any more")
            if let open { self.open(open, in: site) }
        case .reset:
            break  // only a release resets, and `releaseNow` runs the statements itself
        case .move(let moving, let target):
            move(moving, in: site, to: target)
        }
    }

    private func applyLoss(_ loss: PoolShard.LossAction, in site: PoolSite, failure: ServerFailure) {
        for tag in loss.failed { clients[tag.client]?.acquireFailed(failure) }
        if let open = loss.open { self.open(open, in: site) }
        if let handoff = loss.handoff { self.handoff(handoff, in: site) }
    }

    // MARK: Opening, moving, stealing

    func open(_ id: ServerID, in site: PoolSite) {
        let server = ServerDriver(
            id: id, key: site.info.key, target: site.info.target, credentials: site.info.credentials, loop: loop,
            owner: self, settings: runtime.settings, logger: logger)
        site.servers[id] = server
        server.start()
    }

    /// Moves a server the shard let go of to the loop `target`, whose shard adopts it.
    private func move(_ moving: PoolShard.MovingServer, in site: PoolSite, to target: Int) {
        guard let server = site.servers.removeValue(forKey: moving.id) else { return }
        logger.trace("server moves", metadata: ["server": "\(moving.id)", "from": "\(loop.index)", "to": "\(target)"])
        let destination = plane.shards[target]
        let started = server.move(to: destination.loop) { arrived in
            arrived.owner = destination
            destination.adopt(arrived, moving)
        }
        if !started {
            // Not movable now (bytes in flight): it stays here.
            site.servers[moving.id] = server
            handoff(site.shard.adopt(moving, now: loop.now), in: site)
        }
    }

    /// A server moved here from another loop (on this loop).
    func adopt(_ server: ServerDriver, _ moving: PoolShard.MovingServer) {
        guard let site = sites[server.key] else {
            // No client of this pool ever came here: nothing to adopt it into. Close it; its claim goes back.
            moving.claim.giveBack()
            server.close(reason: "moved to a loop without its pool")
            return
        }
        site.servers[server.id] = server
        let action = site.shard.adopt(moving, now: loop.now)
        logger.trace("server arrived", metadata: ["server": "\(server.id)", "loop": "\(loop.index)", "action": "\(action)"])
        handoff(action, in: site)
    }

    private func requestSteal(_ key: PoolKey, from source: Int) {
        let requester = loop.index
        let other = plane.shards[source]
        other.loop.execute { other.stealRequested(key, by: requester) }
    }

    /// The loop `requester` has a client waiting and no server: one idle here moves there (on this loop), or
    /// the requester hears that none is left.
    func stealRequested(_ key: PoolKey, by requester: Int) {
        guard let site = sites[key], let moving = site.shard.stealRequested(now: loop.now) else {
            let other = plane.shards[requester]
            other.loop.execute { other.stealFailed(key) }
            return
        }
        move(moving, in: site, to: requester)
    }

    /// A steal came back empty (on this loop): open a server here if the waiters still need one.
    func stealFailed(_ key: PoolKey) {
        guard let site = sites[key], let id = site.shard.stealFailed(now: loop.now) else { return }
        open(id, in: site)
    }

    // MARK: Server events (ServerDriverOwner)

    func serverLoggedIn(_ server: ServerDriver) {
        guard let site = sites[server.key] else { return }
        site.info.learnParameters(server.session.reported)
        site.info.lastLoginFailure = nil
        if plane.budgetToLearn(host: server.target.address.description) {
            // The host's budget (auto) is read on this server before it serves anyone.
            readingBudget.insert(server.id)
            server.runStatements([ServerBudget.query], purpose: .query)
            return
        }
        handoff(site.shard.serverReady(server.id, now: loop.now), in: site)
    }

    func serverLoginFailed(_ server: ServerDriver, _ failure: ServerFailure) {
        guard let site = sites[server.key] else { return }
        logger.warning("server login failed", metadata: ["pool": "\(server.key)", "reason": "\(failure.message)"])
        site.servers[server.id] = nil
        var failure = failure
        failure.retryPaused = site.info.limits.loginRetry > .zero
        site.info.lastLoginFailure = failure
        applyLoss(site.shard.serverLost(server.id, loginFailed: true, now: loop.now), in: site, failure: failure)
    }

    func serverAttached(_ server: ServerDriver, to client: ClientID, synced: TrackedParameters) {
        guard let driver = clients[client], !driver.isClosed else {
            release(server, statements: [], reusable: true)
            return
        }
        driver.serverAttached(server, synced: synced)
    }

    func serverSyncFailed(_ server: ServerDriver, client: ClientID, _ failure: ServerFailure) {
        clients[client]?.acquireFailed(failure)
        guard let site = sites[server.key] else { return }
        handoff(site.shard.release(server.id, needsReset: false, now: loop.now), in: site)
    }

    func serverFinished(
        _ server: ServerDriver, _ purpose: ServerSession.Purpose, _ result: Result<[[String?]], ServerFailure>
    ) {
        guard let site = sites[server.key] else { return }
        switch (purpose, result) {
        case (.reset, .success), (.check, .success):
            handoff(site.shard.serverReady(server.id, now: loop.now), in: site)
        case (.reset, .failure(let failure)), (.check, .failure(let failure)):
            logger.info("server failed its reset or check; closing it", metadata: ["reason": "\(failure.message)"])
            site.servers[server.id] = nil
            server.close(reason: "failed its \(purpose == .reset ? "reset" : "check")")
            applyLoss(site.shard.serverLost(server.id, loginFailed: false, now: loop.now), in: site, failure: failure)
        case (.query, _) where readingBudget.remove(server.id) != nil:
            plane.budgetRead(result, host: server.target.address.description)
            handoff(site.shard.serverReady(server.id, now: loop.now), in: site)
        case (.query, _), (.sync, _):
            handoff(site.shard.serverReady(server.id, now: loop.now), in: site)
        }
    }

    func serverClosed(_ server: ServerDriver, client: ClientID?, reason: String) {
        if readingBudget.remove(server.id) != nil { plane.budgetReadInterrupted(host: server.target.address.description) }
        guard let site = sites[server.key] else { return }
        site.servers[server.id] = nil
        if let client { clients[client]?.serverLost(server) }
        let failure = ServerFailure(message: "server connection was lost before use")
        applyLoss(site.shard.serverLost(server.id, loginFailed: false, now: loop.now), in: site, failure: failure)
    }

    // MARK: Upkeep

    /// Every 100 ms: idle servers past their timeouts closed, min_pool_size kept, waiters past
    /// query_wait_timeout answered, reserves opened, stalled transactions counted, idle servers moved to loops
    /// whose clients wait.
    func upkeep() {
        let now = loop.now
        let notifyAfter = Duration.milliseconds(Int64(runtime.settings.queryWaitNotify * 1000))
        for site in sites.values {
            var stalled: Set<ServerID> = []
            for server in site.servers.values {
                if case .active(let holder) = server.session.state, clients[holder]?.session.isIdleInTransaction == true {
                    stalled.insert(server.id)
                }
            }
            site.shard.setStalledTransactionHolders(stalled)
            for action in site.shard.serveWaiting(now: now) { handoff(action, in: site) }
            let upkeep = site.shard.maintain(now: now)
            for id in upkeep.close { site.servers.removeValue(forKey: id)?.close(reason: "server_idle_timeout or server_lifetime") }
            for id in upkeep.open { open(id, in: site) }
            for (moving, target) in upkeep.moves { move(moving, in: site, to: target) }
            if !upkeep.timedOut.isEmpty {
                let limit = site.shard.lastRefusal.map(Self.refusal) ?? "every server is in use"
                for tag in upkeep.timedOut { clients[tag.client]?.waitTimedOut(limit: limit) }
            }
            if let reserve = site.shard.openReserveIfWanted(now: now) { open(reserve, in: site) }
            if notifyAfter > .zero {
                for waiter in site.shard.waiters.waiting where now - waiter.since >= notifyAfter {
                    clients[waiter.tag.client]?.waitedLong()
                }
            }
        }
        // After the stalled holders were counted: reclaim compares them with max_idle_transaction_servers.
        guardLeaks(now: now)
    }

    /// A full bound as a waiter that timed out is told of it: "max_db_connections 1 reached for app",
    /// "all 20 servers are in use (pool_size 20)".
    static func refusal(_ bound: SharedLimit) -> String {
        if bound.name == "pool_size" { return "all \(bound.used) servers are in use (pool_size \(bound.limit))" }
        guard let space = bound.name.firstIndex(of: " ") else { return "\(bound.name) \(bound.limit) reached" }
        return "\(bound.name[..<space]) \(bound.limit) reached for \(bound.name[bound.name.index(after: space)...])"
    }

    /// Closes every client and server on this loop (shutdown).
    func closeEverything() {
        for client in Array(clients.values) {
            client.fatal(.adminShutdown, "terminating connection due to administrator command")
        }
        for site in sites.values {
            for server in site.servers.values { server.close(reason: "shutdown") }
            site.servers = [:]
        }
    }
}
