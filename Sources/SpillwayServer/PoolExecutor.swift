import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresWire
import SpillwayCore

/// Runs the pool state machines: computes actions under one lock, carries them out after unlocking.
///
/// It owns every pool, every server connection, and the registry of logged-in clients (for handing servers
/// to waiters and for CancelRequest lookups).
final class PoolExecutor: @unchecked Sendable {
    /// What the executor knows of one pool besides its state machine.
    struct PoolEntry {
        var machine: PoolStateMachine
        var target: ServerTarget
        var credentials: ServerCredentials
        /// ParameterStatus set of the pool's first server, sent to clients at login.
        var parameters: [(name: String, value: String)]?
        var checkQuery: String?
        /// Why the last server login failed, for clients refused during server_login_retry.
        var lastLoginFailure: ServerFailure?
        /// The pool mode its clients run in.
        var mode: PoolMode
        /// max_db_connections / max_user_connections that apply to this pool (0 = none), read once.
        var databaseLimit: Int
        var userLimit: Int
        /// SHOW STATS counters and the last period's averages.
        var stats = PoolStats()
        /// The wait-time histogram, when metrics are on.
        var waitTimer: CoreMetrics.Timer?
        /// Counters its clients keep without the lock.
        let gauges = PoolGauges()
        /// A pool of a break-glass user: it draws on the reserve kept from everyone else.
        var breakGlass = false
        /// `target.address` as text, the key of host budgets (kept, not formatted at every acquire).
        var host: String
        /// The host's budget as known now (a copy of `State.hostBudgets[host]`, kept in step by `setBudget`).
        var hostBudget: HostBudget = .unknown
        /// A `serveAcrossLoops` run is scheduled: a server sits idle on one loop while clients wait on another.
        var acrossLoopsPending = false
    }

    struct State {
        /// Runs `body` on the pool's entry in place. Reaching it by index, not `pools[key]?.`, avoids both a
        /// copy of the entry and the allocations optional chaining through a Dictionary costs.
        @discardableResult
        mutating func withPool<R>(_ key: PoolKey, _ body: (inout PoolEntry) -> R) -> R? {
            guard let index = pools.index(forKey: key) else { return nil }
            return body(&pools.values[index])
        }

        var pools: [PoolKey: PoolEntry] = [:]
        var servers: [ServerID: ServerConnection] = [:]
        var clients: [ClientID: ClientConnection] = [:]
        /// The pool of each logged-in client (fixed at login).
        var clientPools: [ClientID: PoolKey] = [:]
        var cancelKeys: [CancelRequest: ClientID] = [:]
        /// Statements a server runs before it returns to the pool (ROLLBACK, server_reset_query).
        var resets: [ServerID: [String]] = [:]
        var clientConnections = 0
        /// Databases closed to new logins (DISABLE).
        var disabled: Set<String> = []
        /// Tracked parameters each waiting client wants, handed over with its server.
        var wanted: [ClientID: TrackedParameters] = [:]
        /// PAUSE without a database, and PAUSE db: pools created meanwhile start paused.
        var pausedAll = false
        var pausedDatabases: Set<String> = []
        /// Client connections per application, and admission.
        var applications = ApplicationBook()
        var clientApplications: [ClientID: String] = [:]
        /// Client connections per database and user (max_db_client_connections, max_user_client_connections).
        var clientCounts = ClientCounts()
        var countedClients: [ClientID: (database: String, user: String)] = [:]
        /// Clients idle in a transaction past leak_warn_after, and applications that pile up connections.
        var leakSuspects: [ClientID: LeakSuspect] = [:]
        var growth = GrowthWatch()
        var growthReported: Set<String> = []
        /// server_connection_budget per host, and the servers kept for break-glass users on each host.
        var hostBudgets: [String: HostBudget] = [:]
        var breakGlassReserve = 0
        /// Clients the leak guard took servers from lately, for SHOW LEAKS.
        var recentReclaims: [ReclaimRecord] = []
        /// Pools currently warned about (warn_pool_usage).
        var crowdedPools: Set<PoolKey> = []
        /// When the current stats period began.
        var statsPeriodStart = ContinuousClock.now
    }

    let loops: [EventLoop]
    let state = NIOLockedValueBox(State())
    private let ids = NIOLockedValueBox((client: UInt64(0), server: UInt64(0)))
    let logger: Logger
    let configBox: NIOLockedValueBox<RuntimeConfig>
    private let maxPacketSize: Int
    /// Set by `Spillway`: SHUTDOWN from the console drains and stops the whole process.
    let shutdownRequest = NIOLockedValueBox<(@Sendable (Bool) -> Void)?>(nil)
    /// Set by `Spillway` when it logs to a `logfile`: reopens it (its path from the new configuration) on reload.
    let reopenLog = NIOLockedValueBox<(@Sendable (String?) -> Void)?>(nil)

    /// Prometheus metrics, when metrics_listen_addr is set.
    let metrics: SpillwayMetrics?

    init(loops: [EventLoop], config: RuntimeConfig, logger: Logger, metrics: SpillwayMetrics? = nil) {
        self.loops = loops
        self.metrics = metrics
        self.maxPacketSize = config.settings.maxPacketSize
        self.configBox = NIOLockedValueBox(config)
        self.logger = logger
        let settings = config.settings
        state.withLockedValue { $0.breakGlassReserve = settings.breakGlassPoolSize * settings.breakGlassUsers.count }
    }

    var config: RuntimeConfig { configBox.withLockedValue { $0 } }

    func loopIndex(of loop: EventLoop) -> Int {
        loops.firstIndex { $0 === loop } ?? 0
    }

    func nextClientID() -> ClientID {
        ids.withLockedValue { ids in
            ids.client += 1
            return ClientID(ids.client)
        }
    }

    private func nextServerID() -> ServerID {
        ids.withLockedValue { ids in
            ids.server += 1
            return ServerID(ids.server)
        }
    }

    // MARK: Client admission

    /// Counts a new client connection; false when max_client_conn is reached.
    func admitClient() -> Bool {
        let limit = config.settings.maxClientConn
        return state.withLockedValue { state in
            guard state.clientConnections < limit else { return false }
            state.clientConnections += 1
            return true
        }
    }

    func clientConnectionClosed() {
        state.withLockedValue { $0.clientConnections -= 1 }
    }

    /// Registers a logged-in client and returns the BackendKeyData it is given.
    func register(_ client: ClientConnection, pool: PoolKey?) -> CancelRequest {
        return state.withLockedValue { state in
            var key: CancelRequest
            repeat {
                let bytes = SecureRandom.bytes(8)
                let words = bytes.withUnsafeBytes { ($0.load(as: Int32.self), $0.load(fromByteOffset: 4, as: Int32.self)) }
                // processID: positive, as PostgreSQL's; the secret: any 32 bits.
                key = CancelRequest(processID: max(words.0 & Int32.max, 1), secretKey: words.1)
            } while state.cancelKeys[key] != nil
            state.cancelKeys[key] = client.id
            state.clients[client.id] = client
            state.clientPools[client.id] = pool
            return key
        }
    }

    func unregister(_ client: ClientConnection, cancelKey: CancelRequest?) {
        state.withLockedValue { state in
            state.clients[client.id] = nil
            state.clientPools[client.id] = nil
            Self.applicationLeft(client.id, state: &state)
            if let cancelKey { state.cancelKeys[cancelKey] = nil }
        }
    }

    // MARK: Pools

    /// Makes sure the pool exists and records the best credentials known for its servers.
    func preparePool(
        _ key: PoolKey, mode: PoolMode, target: ServerTarget, credentials: ServerCredentials,
        limits: PoolStateMachine.Limits
    ) -> [(name: String, value: String)]?
    {
        let runtime = config
        let checkQuery = runtime.settings.serverCheckQuery
        let databaseLimit = runtime.databaseMaxConnections(key.database)
        let userLimit = runtime.config.maxUserConnections(user: key.user)
        return state.withLockedValue { state in
            if state.pools[key] != nil {
                if credentials != .none { state.pools[key]!.credentials = credentials }
                if state.pools[key]!.machine.limits != limits { state.pools[key]!.machine.limits = limits }
                return state.pools[key]!.parameters
            }
            var machine = PoolStateMachine(
                key: key, limits: limits, loops: loops.count, nextServer: { [self] in nextServerID() })
            if state.pausedAll || state.pausedDatabases.contains(key.database) { machine.pause() }
            state.pools[key] = PoolEntry(
                machine: machine, target: target, credentials: credentials, parameters: nil,
                checkQuery: checkQuery.isEmpty ? nil : checkQuery, mode: mode, databaseLimit: databaseLimit,
                userLimit: userLimit, waitTimer: metrics?.waitTimer(for: key),
                breakGlass: runtime.settings.breakGlassUsers.contains(key.user), host: target.address.description,
                hostBudget: state.hostBudgets[target.address.description] ?? .unknown)
            return nil
        }
    }

    /// The client needs a server of pool `key`. The server arrives through `client.serverAssigned`, possibly
    /// before this returns (same loop, idle server).
    func acquire(_ client: ClientConnection, key: PoolKey, tag: ClientTag, wanted: TrackedParameters) {
        let now = ContinuousClock.now
        var reclaims: [PoolStateMachine.Reclaim] = []
        var delivery: Delivery?
        let (action, toOpen, failure) = state.withLockedValue {
            state -> (PoolStateMachine.AcquireAction, OpenWork?, ServerFailure?) in
            // A new transaction: the gate needs a fresh count of transactions stalled on the pool's servers.
            if tag.opensTransaction, let index = state.pools.index(forKey: key) { refreshStalled(index, in: &state) }
            // Mutated in place (never copied out and back): a copy would duplicate the pool's tables.
            let skip = state.withPool(key) { $0.machine.acquireIgnoresCapacity } ?? true
            let room = skip ? 0 : capacity(for: key, in: &state)
            guard let action = state.withPool(key, { $0.machine.acquire(tag, now: now, capacity: room) }) else {
                return (.refuse, nil, nil)
            }
            if case .refuse = action { return (action, nil, state.pools[key]?.lastLoginFailure) }
            if case .assign(let id) = action {
                // Served at once: everything the handover needs is read under this lock, not a second one.
                delivery = Delivery(server: state.servers[id], client: client, wanted: wanted)
                return (action, nil, nil)
            }
            state.wanted[tag.client] = wanted
            if case .wait = action { reclaims = reclaimCandidates(key, in: &state) }
            if case .openAndWait(let id, let loop) = action {
                return (action, makeServer(id, loop: loop, key: key, state: &state), nil)
            }
            return (action, nil, nil)
        }
        if !reclaims.isEmpty { carryOut(reclaims, key: key) }
        switch action {
        case .refuse:
            var failure = failure ?? ServerFailure(message: "no server available for pool \(key)")
            failure.retryPaused = true
            client.acquireFailed(failure)
        case .assign:
            if let delivery { deliver(delivery) }
        case .check(let id):
            check(id, for: tag.client, key: key)
        case .openAndWait:
            if let toOpen { open(toOpen) }
        case .wait:
            break
        }
    }

    /// The client stopped waiting (gone or timed out); true when it was still in the queue.
    @discardableResult
    func cancelWait(_ client: ClientID, key: PoolKey) -> Bool {
        state.withLockedValue { state in
            guard state.withPool(key, { $0.machine.cancelWait(client) }) == true else { return false }
            state.wanted[client] = nil
            return true
        }
    }

    /// The client gives its server back. `statements`: to run before reuse (ROLLBACK, reset query).
    /// `stats`: the client's counters since it last handed them over, added to the pool under the same lock.
    func release(
        _ server: ServerConnection, from client: ClientConnection?, statements: [String], reusable: Bool = true,
        stats: TrafficStats = TrafficStats()
    ) {
        // Detach on the server's loop before the pool may hand the server out again.
        if server.loop.inEventLoop {
            if let client { server.detach(from: client) }
            releaseDetached(server, statements: statements, reusable: reusable, stats: stats)
        } else {
            server.loop.execute {
                if let client { server.detach(from: client) }
                self.releaseDetached(server, statements: statements, reusable: reusable, stats: stats)
            }
        }
    }

    private func releaseDetached(_ server: ServerConnection, statements: [String], reusable: Bool, stats: TrafficStats) {
        let now = ContinuousClock.now
        let key = server.key
        var delivery: Delivery?
        var acrossLoops: Duration?
        let (action, work) = state.withLockedValue { state -> (PoolStateMachine.HandoffAction, OpenWork?) in
            let needed = state.withPool(key) { $0.machine.releaseNeedsCapacity(server.id, reusable: reusable, now: now) }
            let room = needed == true ? capacity(for: key, in: &state) : 0
            if let index = state.pools.index(forKey: key) { refreshStalled(index, in: &state) }
            guard let action = state.withPool(key, { entry -> PoolStateMachine.HandoffAction in
                entry.stats.totals.add(stats)
                return entry.machine.release(
                    server.id, needsReset: !statements.isEmpty, reusable: reusable, now: now, capacity: room)
            }) else { return (.idle, nil) }
            if case .reset = action { state.resets[server.id] = statements }
            if case .assign(_, let tag) = action {
                // Handed straight to a waiter: look it up under this lock rather than a second one.
                delivery = Delivery(
                    server: server, client: state.clients[tag.client], wanted: state.wanted.removeValue(forKey: tag.client))
                return (action, nil)
            }
            if case .idle = action { acrossLoops = Self.needsAcrossLoopsRun(key, state: &state) }
            return (action, openWork(for: action, key: key, state: &state))
        }
        if let acrossLoops { scheduleAcrossLoops(key, after: acrossLoops, on: server.loop) }
        if let delivery {
            deliver(delivery)
        } else {
            run(action, key: key, work: work)
        }
    }

    /// The pool's lock-free counters.
    func gauges(for key: PoolKey) -> PoolGauges? {
        state.withLockedValue { $0.pools[key]?.gauges }
    }

    /// The pool's wait-time histogram (nil when metrics are off).
    func waitTimer(for key: PoolKey) -> CoreMetrics.Timer? {
        guard metrics != nil else { return nil }
        return state.withLockedValue { $0.pools[key]?.waitTimer }
    }

    /// Adds a client's counters to its pool (session-mode clients, closing clients).
    func record(_ stats: TrafficStats, key: PoolKey) {
        guard !stats.isEmpty else { return }
        state.withLockedValue { state in
            state.withPool(key) { $0.stats.totals.add(stats) }
        }
    }

    private func serverReady(_ id: ServerID, key: PoolKey) {
        let now = ContinuousClock.now
        var acrossLoops: Duration?
        let (action, work) = state.withLockedValue { state -> (PoolStateMachine.HandoffAction, OpenWork?) in
            guard let action = state.withPool(key, { $0.machine.serverReady(id, now: now) }) else { return (.idle, nil) }
            if case .idle = action { acrossLoops = Self.needsAcrossLoopsRun(key, state: &state) }
            return (action, openWork(for: action, key: key, state: &state))
        }
        if let acrossLoops { scheduleAcrossLoops(key, after: acrossLoops, on: loops[0]) }
        run(action, key: key, work: work)
    }


    /// A server's connection closed (any phase after login).
    func serverClosed(_ server: ServerConnection) {
        lost(server.id, key: server.key, failure: nil)
    }

    private func lost(_ id: ServerID, key: PoolKey, failure: ServerFailure?) {
        let now = ContinuousClock.now
        let (loss, work, failedClients) = state.withLockedValue {
            state -> (PoolStateMachine.LossAction, OpenWork?, [ClientConnection]) in
            state.servers[id] = nil
            state.resets[id] = nil
            let room = capacity(for: key, in: &state)
            guard let loss = state.withPool(key, {
                $0.machine.serverLost(id, loginFailed: failure != nil, now: now, capacity: room)
            }) else { return (.init(), nil, []) }
            if let failure { state.withPool(key) { $0.lastLoginFailure = failure } }
            var work: OpenWork?
            if let open = loss.open { work = makeServer(open.server, loop: open.loop, key: key, state: &state) }
            return (loss, work, loss.failed.compactMap { state.clients[$0.client] })
        }
        if let handoff = loss.handoff { run(handoff, key: key, work: nil) }
        if let work { open(work) }
        if let failure {
            for client in failedClients { client.onLoop { client.acquireFailed(failure) } }
        }
    }

    // MARK: Running actions

    struct OpenWork {
        var server: ServerConnection
        var credentials: ServerCredentials
    }

    private func openWork(for action: PoolStateMachine.HandoffAction, key: PoolKey, state: inout State) -> OpenWork? {
        guard case .close(_, let open?) = action else { return nil }
        return makeServer(open.server, loop: open.loop, key: key, state: &state)
    }

    func makeServer(_ id: ServerID, loop: Int, key: PoolKey, state: inout State) -> OpenWork {
        let target = state.pools[key]!.target
        let credentials = state.pools[key]!.credentials
        let connection = ServerConnection(
            id: id, key: key, loop: loops[loop], loopIndex: loop, target: target, executor: self,
            maxPacketSize: maxPacketSize, logger: logger)
        state.servers[id] = connection
        return OpenWork(server: connection, credentials: credentials)
    }

    func open(_ work: OpenWork) {
        let server = work.server
        // server_connect_timeout = 0 turns the bound off (as every other timeout's 0 does): a day stands for never.
        let seconds = config.settings.serverConnectTimeout
        let timeout = TimeAmount.milliseconds(Int64((seconds > 0 ? seconds : 86_400) * 1000))
        server.loop.execute {
            server.connect(credentials: work.credentials, connectTimeout: timeout) { result in
                switch result {
                case .success:
                    self.state.withLockedValue { state in
                        if state.pools[server.key]?.parameters == nil {
                            state.pools[server.key]?.parameters = server.reported
                        }
                    }
                    self.learnBudgetIfNeeded(server) { self.serverReady(server.id, key: server.key) }
                case .failure(let failure):
                    self.logger.warning("server login failed", metadata: [
                        "db": "\(server.key.database)", "user": "\(server.key.user)", "reason": "\(failure.message)",
                    ])
                    self.lost(server.id, key: server.key, failure: failure)
                }
            }
        }
    }

    func run(_ action: PoolStateMachine.HandoffAction, key: PoolKey, work: OpenWork?) {
        switch action {
        case .assign(let id, let tag):
            deliver(id, to: tag.client)
        case .check(let id, let tag):
            check(id, for: tag.client, key: key)
        case .idle:
            break
        case .close(let id, _):
            let server = state.withLockedValue { $0.servers.removeValue(forKey: id) }
            server?.close()
            if let work { open(work) }
        case .reset(let id):
            let (server, statements) = state.withLockedValue { ($0.servers[id], $0.resets.removeValue(forKey: id)) }
            guard let server, let statements else { return }
            server.onLoop {
                server.runInternal(statements) { result in
                    if case .success(.idle) = result {
                        self.serverReady(id, key: key)
                    } else {
                        server.close()
                    }
                }
            }
        }
    }

    private func check(_ id: ServerID, for client: ClientID, key: PoolKey) {
        let (server, query) = state.withLockedValue { ($0.servers[id], $0.pools[key]?.checkQuery) }
        guard let server else { return }
        guard let query else {
            serverReady(id, key: key)
            return
        }
        server.onLoop {
            server.runInternal([query]) { result in
                if case .success(.idle) = result {
                    self.serverReady(id, key: key)
                } else {
                    server.close()
                }
            }
        }
    }

}

extension ServerConnection {
    /// Runs `body` on the server's loop: now if already there.
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }
}
