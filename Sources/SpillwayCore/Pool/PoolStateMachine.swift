/// The servers of one pool (database alias + role) and the clients waiting for them.
///
/// Pure: events in, actions out. Time arrives as `now:`; limits that span pools (max_db_connections,
/// max_user_connections) arrive as `capacity:`, the number of servers the caller's other budgets still allow.
public struct PoolStateMachine: Sendable {
    /// Where one server is in its life.
    public enum ServerState: Sendable, Equatable {
        /// Opening the connection and logging in. Next: `.idle` or `.active` (via `serverReady`), or gone.
        case connecting
        /// In the pool, in state idle since the instant. Next: `.active`, `.checking`, gone.
        case idle(since: ContinuousClock.Instant)
        /// Running `server_check_query` before being handed to `client`. Next: `.active`, gone.
        case checking(for: ClientTag)
        /// Assigned to a client. Next: `.idle`, `.resetting`, gone.
        case active(ClientID)
        /// Running ROLLBACK / `server_reset_query` before reuse. Next: `.idle`, `.active`, gone.
        case resetting
    }

    /// One server connection of this pool.
    public struct Server: Sendable, Equatable {
        public var id: ServerID
        public var loop: Int
        public var state: ServerState
        public var openedAt: ContinuousClock.Instant
        /// The pool's generation when it opened: servers from before a RECONNECT are retired on release.
        public var generation: Int = 0
        /// The client it is lent to (or being checked for), with its application and standing.
        public var holder: ClientTag?
        /// Its holder is being made to give it back (idle-in-transaction reclaim): not chosen again.
        public var reclaiming = false
    }

    /// Whether the pool lends servers (PAUSE / RESUME).
    public enum RunState: Sendable, Equatable {
        /// Servers are lent to waiters as usual.
        case running
        /// No server is lent: clients queue until RESUME; servers go idle when released.
        case paused
    }

    /// Limits of this pool.
    public struct Limits: Sendable, Equatable {
        /// Most servers this pool may hold (pool_size / default_pool_size).
        public var poolSize: Int
        /// Servers kept open even with no clients (min_pool_size).
        public var minPoolSize: Int
        /// Idle servers unused this long run server_check_query before reuse (server_check_delay); nil: never.
        public var checkDelay: Duration?
        /// Idle servers unused this long are closed (server_idle_timeout); nil: never.
        public var idleTimeout: Duration?
        /// Servers older than this are closed when next released (server_lifetime); nil: never.
        public var lifetime: Duration?
        /// After a failed login, no new server is opened for this long (server_login_retry).
        public var loginRetry: Duration
        /// A client waiting longer than this is given up (query_wait_timeout); nil: waits forever.
        public var queryWaitTimeout: Duration?
        /// A released server goes to a waiter on its own event loop; a waiter on another loop gets it only once
        /// the oldest has waited this long (meanwhile its own loop's servers usually free up): forwarding then
        /// almost never crosses threads, which costs more CPU than the whole transaction otherwise does.
        public var loopAffinityWindow: Duration
        /// Servers beyond `poolSize` for waiters whose application holds less than its share, or who waited
        /// `reserveTimeout` (reserve_pool_size, reserve_pool_timeout).
        public var reservePoolSize: Int = 0
        public var reserveTimeout: Duration? = nil
        /// Servers that may sit idle in a transaction while others wait (max_idle_transaction_servers); at
        /// least 1, so that a pool of 1 never takes a server from a transaction that merely paused.
        public var maxIdleTransactionServers: Int
        /// A holder idle inside a transaction for less than this is never reclaimed, however many wait
        /// (idle_transaction_reclaim_after): a healthy transaction pauses for milliseconds, a leak for ever.
        public var reclaimAfter: Duration
        /// Weights and caps of applications (the `[applications]` section); absent ones weigh 1, no cap.
        public var applications: [String: ApplicationPolicy] = [:]
        public init(
            poolSize: Int, minPoolSize: Int = 0, checkDelay: Duration? = nil, idleTimeout: Duration? = nil,
            lifetime: Duration? = nil, loginRetry: Duration = .zero, queryWaitTimeout: Duration? = nil,
            loopAffinityWindow: Duration = .milliseconds(2), reservePoolSize: Int = 0, reserveTimeout: Duration? = nil,
            maxIdleTransactionServers: Int? = nil, reclaimAfter: Duration = .seconds(2),
            applications: [String: ApplicationPolicy] = [:]
        ) {
            self.reclaimAfter = reclaimAfter
            self.reservePoolSize = reservePoolSize
            self.reserveTimeout = reserveTimeout
            self.maxIdleTransactionServers = maxIdleTransactionServers ?? max(1, poolSize / 2)
            self.applications = applications
            self.queryWaitTimeout = queryWaitTimeout
            self.loopAffinityWindow = loopAffinityWindow
            self.loginRetry = loginRetry
            self.poolSize = poolSize
            self.minPoolSize = minPoolSize
            self.checkDelay = checkDelay
            self.idleTimeout = idleTimeout
            self.lifetime = lifetime
        }
    }

    /// What to do after a client asked for a server.
    public enum AcquireAction: Sendable, Equatable {
        /// Link the client to this idle server now.
        case assign(ServerID)
        /// Run `server_check_query` on this server; `checkPassed` or `serverClosed` follows.
        case check(ServerID)
        /// The client waits; open this new server on this loop for the waiters.
        case openAndWait(ServerID, loop: Int)
        /// The client waits for a server to be released.
        case wait
        /// Servers of this pool fail to log in and none is open: answer with the last login error now
        /// instead of storming PostgreSQL with new attempts (server_login_retry).
        case refuse
    }

    /// What to do with a server that became available (logged in, reset, checked, or released clean).
    public enum HandoffAction: Sendable, Equatable {
        /// Link the server to this waiting client.
        case assign(ServerID, to: ClientTag)
        /// Run `server_check_query` for this waiting client first.
        case check(ServerID, for: ClientTag)
        /// Nobody waits: the server stays idle in the pool.
        case idle
        /// The server is past `server_lifetime`: close it (and open a replacement when `open` is set).
        case close(ServerID, open: OpenRequest?)
        /// Run ROLLBACK / reset first; `serverReady` follows.
        case reset(ServerID)
    }

    /// A new server to open for waiters.
    public struct OpenRequest: Sendable, Equatable {
        public var server: ServerID
        public var loop: Int
    }

    /// What to do after a server was lost.
    public struct LossAction: Sendable, Equatable {
        /// Waiters that can no longer be served: answer each with the error.
        public var failed: [ClientTag] = []
        /// Replacement server to open for waiters.
        public var open: OpenRequest?
        /// An idle server given to the client whose checked server failed.
        public var handoff: HandoffAction?
        public init(failed: [ClientTag] = [], open: OpenRequest? = nil, handoff: HandoffAction? = nil) {
            self.failed = failed
            self.open = open
            self.handoff = handoff
        }
    }

    public let key: PoolKey
    public var limits: Limits
    public internal(set) var servers: [ServerID: Server] = [:]
    public internal(set) var waiters = WaitQueue()
    /// Servers whose holders sit idle inside a transaction, as the executor last counted them (on each new
    /// transaction, each release and every 100 ms while clients wait).
    public var stalledTransactionHolders = 0
    /// Idle servers per event loop, most recently used last.
    var idleByLoop: [[ServerID]]
    /// PAUSE / RESUME.
    public internal(set) var runState = RunState.running
    /// Bumped by RECONNECT; servers of older generations close instead of going back to the pool.
    public internal(set) var generation = 0
    /// Until this instant no server is opened: the last login failed (server_login_retry).
    public private(set) var loginRetryUntil: ContinuousClock.Instant?
    private let nextServer: @Sendable () -> ServerID

    /// A new process-unique server ID.
    func nextServerID() -> ServerID { nextServer() }

    /// `loops`: number of event loops; `nextServer` hands out process-unique server IDs.
    public init(key: PoolKey, limits: Limits, loops: Int, nextServer: @escaping @Sendable () -> ServerID) {
        self.key = key
        self.limits = limits
        self.idleByLoop = Array(repeating: [], count: max(loops, 1))
        self.nextServer = nextServer
    }

    // MARK: Counts, read from the structures

    public var serverCount: Int { servers.count }
    public var idleCount: Int { idleByLoop.reduce(0) { $0 + $1.count } }
    public var activeCount: Int { servers.values.reduce(0) { $0 + ($1.state.isActive ? 1 : 0) } }
    public var connectingCount: Int { servers.values.reduce(0) { $0 + ($1.state == .connecting ? 1 : 0) } }
    public var waitingCount: Int { waiters.count }

    // MARK: Events

    /// A client needs a server. `capacity`: how many more servers other budgets allow.
    public mutating func acquire(_ tag: ClientTag, now: ContinuousClock.Instant, capacity: Int) -> AcquireAction {
        if runState == .paused {
            waiters.append(tag, since: now)
            return .wait
        }
        // The pool is full of stalled transactions (the seed incident: a job leaking them): a new transaction
        // waits for a stalled holder to go, rather than take a server the API's statements need.
        if tag.opensTransaction, transactionGateClosed {
            waiters.append(tag, since: now)
            return .wait
        }
        // Cheapest test first: most deployments have no [applications] caps, and this runs on every acquire.
        if limits.applications.isEmpty || limits.applications[tag.application]?.maxServerConnections == nil
            || applicationAdmits(tag.application, held: serversHeldByApplication),
            let server = takeIdle(preferring: tag.loop)
        {
            return use(server, for: tag, now: now).acquireAction
        }
        if servers.isEmpty, let until = loginRetryUntil, now < until {
            return .refuse
        }
        waiters.append(tag, since: now)
        if let open = openIfUseful(loop: tag.loop, capacity: capacity, now: now) {
            return .openAndWait(open.server, loop: open.loop)
        }
        return .wait
    }

    /// True while max_idle_transaction_servers or more servers are stalled in transactions: waiters that open a
    /// transaction then take no server (statements outside transactions still do), and reclaim makes room for
    /// them once a holder has been idle for `reclaimAfter`. Nothing is killed sooner; new transactions wait.
    public var transactionGateClosed: Bool {
        stalledTransactionHolders >= limits.maxIdleTransactionServers
    }

    /// A waiting client gave up (disconnected or timed out); false if it was not waiting.
    @discardableResult
    public mutating func cancelWait(_ client: ClientID) -> Bool {
        waiters.remove(client)
    }

    /// A server finished logging in, a reset finished, or a check passed: hand it to the oldest waiter or keep it.
    public mutating func serverReady(_ id: ServerID, now: ContinuousClock.Instant) -> HandoffAction {
        guard let server = servers[id] else { return .idle }
        switch server.state {
        case .connecting:
            loginRetryUntil = nil  // a login worked: the server is reachable again
            // It was opened for the waiters, whichever loop it landed on: the first of them takes it now.
            return makeAvailable(id, now: now, anyLoop: true)
        case .resetting, .checking:
            break
        case .idle, .active:
            return .idle  // a stale report (the server is already in the pool or with a client): ignore it
        }
        return makeAvailable(id, now: now)
    }

    /// Hands a usable server to the client it was checked for, else the oldest waiter, else the idle list.
    private mutating func makeAvailable(_ id: ServerID, now: ContinuousClock.Instant, anyLoop: Bool = false) -> HandoffAction {
        // In place, by index: copying the server out and back hashes its ID twice more and copies its holder.
        guard let index = servers.index(forKey: id) else { return .idle }
        if case .checking(let tag) = servers.values[index].state {
            servers.values[index].state = .active(tag.client)
            return .assign(id, to: tag)
        }
        // Its last holder no longer holds it: fair share and caps count without it.
        servers.values[index].holder = nil
        servers.values[index].reclaiming = false
        let loop = servers.values[index].loop
        guard runState == .running, let waiter = nextWaiter(for: loop, now: now, anyLoop: anyLoop) else {
            if servers.count > limits.poolSize, waiters.isEmpty {
                // A reserve server nobody needs any more: back to the pool size.
                servers[id] = nil
                return .close(id, open: nil)
            }
            servers.values[index].state = .idle(since: now)
            idleByLoop[loop].append(id)
            return .idle
        }
        // nextWaiter leaves `servers` alone, so `index` still names this server.
        lend(at: index, to: waiter.tag)
        return .assign(id, to: waiter.tag)
    }

    /// The client released its server. `needsReset`: the server is not idle-clean (in transaction, or its
    /// session state must be discarded). `reusable: false` closes it.
    public mutating func release(
        _ id: ServerID, needsReset: Bool, reusable: Bool = true, now: ContinuousClock.Instant, capacity: Int
    ) -> HandoffAction {
        guard let index = servers.index(forKey: id), case .active = servers.values[index].state else {
            return .idle  // stale release: ignore
        }
        let server = servers.values[index]
        if !reusable || isPastLifetime(server, now: now) || server.generation < generation {
            servers[id] = nil
            return .close(id, open: openIfUseful(loop: server.loop, capacity: capacity.addingReportingOverflow(1).overflow ? capacity : capacity + 1, now: now))
        }
        if needsReset {
            servers.values[index].state = .resetting
            servers.values[index].holder = nil
            servers.values[index].reclaiming = false
            return .reset(id)
        }
        return makeAvailable(id, now: now)
    }

    /// A server connection closed, failed to log in, or failed its check or reset. `loginFailed`: it never
    /// became usable, so waiters with no other server coming are failed rather than left hanging.
    public mutating func serverLost(
        _ id: ServerID, loginFailed: Bool, now: ContinuousClock.Instant, capacity: Int
    ) -> LossAction {
        guard let server = servers.removeValue(forKey: id) else { return LossAction() }
        var action = LossAction()
        switch server.state {
        case .idle:
            idleByLoop[server.loop].removeAll { $0 == id }
        case .checking(let tag):
            // The client was promised this server: it goes back to the front of the line.
            var requeued = WaitQueue()
            requeued.append(tag, since: now)
            for entry in waiters.removeAll() { requeued.append(entry.tag, since: entry.since) }
            waiters = requeued
            // Another idle server serves it now rather than after a replacement logs in.
            if let idle = takeIdle(preferring: tag.loop), let waiter = waiters.popFirst() {
                switch use(idle, for: waiter.tag, now: now) {
                case .assign(let id): action.handoff = .assign(id, to: waiter.tag)
                case .check(let id, let tag): action.handoff = .check(id, for: tag)
                }
            }
        default:
            break
        }
        if loginFailed {
            if limits.loginRetry > .zero { loginRetryUntil = now + limits.loginRetry }
            // Servers still alive or connecting can serve some waiters; fail the rest now.
            let coming = servers.count
            var kept = WaitQueue()
            for entry in waiters.removeAll() {
                if kept.count < coming { kept.append(entry.tag, since: entry.since) } else { action.failed.append(entry.tag) }
            }
            waiters = kept
            return action
        }
        action.open = openIfUseful(loop: server.loop, capacity: capacity.addingReportingOverflow(1).overflow ? capacity : capacity + 1, now: now)
        return action
    }

    /// Periodic upkeep: idle servers past `server_idle_timeout` or `server_lifetime` to close (keeping
    /// `min_pool_size`), and servers to open to reach `min_pool_size`.
    /// What periodic upkeep decided.
    public struct Upkeep: Sendable, Equatable {
        /// Idle servers to close.
        public var close: [ServerID] = []
        /// Servers to open.
        public var open: [OpenRequest] = []
        /// Waiters given up after query_wait_timeout: answer each with an error.
        public var timedOut: [ClientTag] = []
    }

    public mutating func maintain(now: ContinuousClock.Instant, capacity: Int) -> Upkeep {
        var close: [ServerID] = []
        for loop in idleByLoop.indices {
            var kept: [ServerID] = []
            for id in idleByLoop[loop] {
                guard let server = servers[id], case .idle(let since) = server.state else { continue }
                let expired = isPastLifetime(server, now: now) || server.generation < generation
                    || (limits.idleTimeout.map { now - since >= $0 } ?? false)
                if expired, servers.count > limits.minPoolSize || server.generation < generation {
                    servers[id] = nil
                    close.append(id)
                } else {
                    kept.append(id)
                }
            }
            idleByLoop[loop] = kept
        }
        var open: [OpenRequest] = []
        var budget = capacity
        var timedOut: [ClientTag] = []
        if let timeout = limits.queryWaitTimeout, let oldest = waiters.waiting.first, now - oldest.since >= timeout {
            timedOut = waiters.removeAll(waitingSince: now - timeout).map(\.tag)
        }
        if let until = loginRetryUntil, now < until { return Upkeep(close: close, open: [], timedOut: timedOut) }
        while servers.count < min(limits.minPoolSize, limits.poolSize), budget > 0 {
            let id = nextServer()
            let loop = servers.count % idleByLoop.count
            servers[id] = Server(id: id, loop: loop, state: .connecting, openedAt: now, generation: generation)
            open.append(OpenRequest(server: id, loop: loop))
            budget -= 1
        }
        // Waiters left without a server on its way (after a login retry pause, or capacity that freed up).
        while budget > 0, let request = openIfUseful(loop: waiters.waiting.first?.tag.loop ?? 0, capacity: budget, now: now) {
            open.append(request)
            budget -= 1
        }
        return Upkeep(close: close, open: open, timedOut: timedOut)
    }

    /// Removes every waiter (pool shutting down or database removed).
    public mutating func removeAllWaiters() -> [ClientTag] {
        waiters.removeAll().map(\.tag)
    }

    /// Removes the server from the pool's books without any other effect (caller closes it).
    public mutating func forget(_ id: ServerID) {
        guard let server = servers.removeValue(forKey: id) else { return }
        idleByLoop[server.loop].removeAll { $0 == id }
    }

    /// Idle servers, for closing them all (RECONNECT, shutdown).
    public var idleServers: [ServerID] { idleByLoop.flatMap { $0 } }

    // MARK: Helpers

    mutating func takeIdle(preferring loop: Int) -> ServerID? {
        if let id = idleByLoop[loop].popLast() { return id }
        for other in idleByLoop.indices where other != loop {
            if let id = idleByLoop[other].popLast() { return id }
        }
        return nil
    }

    enum Use {
        case assign(ServerID)
        case check(ServerID, ClientTag)
        var acquireAction: AcquireAction {
            switch self {
            case .assign(let id): .assign(id)
            case .check(let id, _): .check(id)
            }
        }
    }

    mutating func use(_ id: ServerID, for tag: ClientTag, now: ContinuousClock.Instant) -> Use {
        guard var server = servers[id] else { preconditionFailure("idle list names unknown server \(id)") }
        server.holder = tag
        if case .idle(let since) = server.state, let delay = limits.checkDelay, now - since >= delay {
            server.state = .checking(for: tag)
            servers[id] = server
            return .check(id, tag)
        }
        server.state = .active(tag.client)
        servers[id] = server
        return .assign(id)
    }

    /// A server that just became ready goes to a waiter without a check: it was just used or just opened.
    mutating func handOff(_ id: ServerID, to tag: ClientTag) -> HandoffAction {
        // By index: optional chaining through the Dictionary allocates on every handoff.
        if let index = servers.index(forKey: id) { lend(at: index, to: tag) }
        return .assign(id, to: tag)
    }

    /// Marks the server at `index` lent to `tag`'s client, in place.
    mutating func lend(at index: Dictionary<ServerID, Server>.Index, to tag: ClientTag) {
        servers.values[index].state = .active(tag.client)
        servers.values[index].holder = tag
        // A new transaction counts as idle in one until the executor's next count says otherwise: several idle
        // servers handed out at once (a tick, a reset batch) must not all go to a job refilling the pool.
        if tag.opensTransaction { stalledTransactionHolders += 1 }
    }

    /// Opens a server when waiters outnumber servers on their way and the limits allow it.
    /// Reserve servers are not considered here, on the path of every wait, but by `openReserveIfWanted` on
    /// upkeep's 100 ms tick.
    mutating func openIfUseful(loop: Int, capacity: Int, now: ContinuousClock.Instant) -> OpenRequest? {
        // Cheap checks first: connectingCount walks the servers.
        guard servers.count < limits.poolSize, capacity > 0, waiters.count > connectingCount else { return nil }
        if let until = loginRetryUntil, now < until { return nil }
        let id = nextServer()
        let loop = placement(wanted: loop)
        servers[id] = Server(id: id, loop: loop, state: .connecting, openedAt: now, generation: generation)
        return OpenRequest(server: id, loop: loop)
    }

    func isPastLifetime(_ server: Server, now: ContinuousClock.Instant) -> Bool {
        limits.lifetime.map { now - server.openedAt >= $0 } ?? false
    }
}

extension PoolStateMachine.ServerState {
    /// Assigned to a client or being prepared for one.
    public var isActive: Bool {
        switch self {
        case .active, .checking: true
        default: false
        }
    }
}
