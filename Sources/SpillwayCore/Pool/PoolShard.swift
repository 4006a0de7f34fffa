/// One loop's part of one pool (database alias + role): the servers on that loop and the clients waiting there.
///
/// Pure and loop-confined: events in, actions out, time as `now:`. What all loops share — the global bounds,
/// each shard's idle servers and waiters, application holdings, the login-retry pause — lives in `shared`
/// (`PoolShared`): counters taken and given back, values published and read, never a lock held while deciding.
/// A server never serves a client of another loop: it moves to that loop first (`.move`), and the shard there
/// adopts it.
public struct PoolShard: Sendable {
    /// Where one server is in its life.
    public enum ServerState: Sendable, Equatable {
        /// Opening the connection and logging in. Next: `.idle` or `.active` (via `serverReady`), or gone.
        case connecting
        /// In the shard, idle since the instant. Next: `.active`, `.checking`, gone (or moved).
        case idle(since: ContinuousClock.Instant)
        /// Running `server_check_query` before being handed to `client`. Next: `.active`, gone.
        case checking(for: ClientTag)
        /// Lent to a client. Next: `.idle`, `.resetting`, gone.
        case active(ClientID)
        /// Running ROLLBACK / `server_reset_query` before reuse. Next: `.idle`, `.active`, gone.
        case resetting
    }

    /// One server connection of this shard.
    public struct Server: Sendable, Equatable {
        public var id: ServerID
        public var state: ServerState
        public var openedAt: ContinuousClock.Instant
        /// The pool's generation when it opened: servers from before a RECONNECT are retired on release.
        public var generation: Int
        /// The client it is lent to (or being checked for).
        public var holder: ClientTag?
        /// The holder's application's pool-wide count, taken at the lend and given back at the end of it
        /// (kept so the end needs no lookup by name).
        var holderCount: SharedLimit?
        /// Its holder is being made to give it back (idle-in-transaction reclaim or timeout): not chosen again.
        public var reclaiming = false
        /// Counted in `stalledTransactionHolders`: lent for a new transaction, or its holder was idle in a
        /// transaction at the last count.
        public var countedStalled = false
        /// The reclaim holds one of the pool-wide reclaim marks (`PoolShared.reclaims`), given back with the
        /// server.
        public var holdsReclaimMark = false
        /// The shared bounds it counts against; given back when it goes.
        public var claim: ServerClaim
        /// Whether the claim is on the reserve rather than pool_size.
        public var fromReserve: Bool
    }

    /// A server leaving this shard for another loop's (`.move`): everything that shard needs to adopt it.
    public struct MovingServer: Sendable, Equatable {
        public var id: ServerID
        public var openedAt: ContinuousClock.Instant
        public var generation: Int
        public var claim: ServerClaim
        public var fromReserve: Bool
    }

    /// Whether the pool lends servers (PAUSE / RESUME).
    public enum RunState: Sendable, Equatable {
        case running
        case paused
    }

    public typealias Limits = PoolStateMachine.Limits

    /// What to do after a client asked for a server.
    public enum AcquireAction: Sendable, Equatable {
        /// Lend the client this idle server now.
        case assign(ServerID)
        /// Run `server_check_query` on this server first; `serverReady` or `serverLost` follows.
        case check(ServerID)
        /// The client waits; open this new server here for the waiters.
        case openAndWait(ServerID)
        /// The client waits; the shard on `loop` has an idle server: ask it to move one here.
        case waitAndSteal(from: Int)
        /// The client waits for a server to be released.
        case wait
        /// Servers of this pool fail to log in and none is open: answer with the last login error now
        /// (server_login_retry).
        case refuse
    }

    /// What to do with a server that became available (logged in, reset, checked, released clean, arrived).
    public enum HandoffAction: Sendable, Equatable {
        /// Lend the server to this waiting client.
        case assign(ServerID, to: ClientTag)
        /// Run `server_check_query` for this waiting client first.
        case check(ServerID, for: ClientTag)
        /// Nobody waits: the server stays idle here.
        case idle
        /// Close the server (past server_lifetime, retired by RECONNECT, a reserve nobody needs); `open` is a
        /// replacement to open here for waiters.
        case close(ServerID, open: ServerID?)
        /// Run ROLLBACK / reset first; `serverReady` follows.
        case reset(ServerID)
        /// A client on `loop` waited longer than anyone here: move the server there (it left these books).
        case move(MovingServer, to: Int)
    }

    /// What to do after a server was lost.
    public struct LossAction: Sendable, Equatable {
        /// Waiters that can no longer be served: answer each with the error.
        public var failed: [ClientTag] = []
        /// Replacement server to open here for waiters.
        public var open: ServerID?
        /// An idle server given to the client whose checked server failed.
        public var handoff: HandoffAction?
        public init(failed: [ClientTag] = [], open: ServerID? = nil, handoff: HandoffAction? = nil) {
            self.failed = failed
            self.open = open
            self.handoff = handoff
        }
    }

    public let key: PoolKey
    /// This shard's loop.
    public let loop: Int
    public var limits: Limits
    public let shared: PoolShared
    public internal(set) var servers: [ServerID: Server] = [:]
    public internal(set) var waiters = WaitQueue()
    /// Idle servers, most recently used last.
    var idle: [ServerID] = []
    /// This shard's servers whose holders sit idle in a transaction, as last counted (published to `shared`).
    public internal(set) var stalledTransactionHolders = 0
    public internal(set) var runState = RunState.running
    /// Bumped by RECONNECT; servers of older generations close instead of going back to the pool.
    public internal(set) var generation = 0
    /// The bound that last refused to let a server open, for the message a timed-out waiter gets.
    public internal(set) var lastRefusal: SharedLimit?
    /// Application holdings, cached from `shared` (its lock is taken once per application per shard).
    var holdings: [String: SharedLimit] = [:]
    private let nextServer: @Sendable () -> ServerID

    /// A new process-unique server ID.
    func nextServerID() -> ServerID { nextServer() }

    public init(
        key: PoolKey, loop: Int, limits: Limits, shared: PoolShared, nextServer: @escaping @Sendable () -> ServerID
    ) {
        self.key = key
        self.loop = loop
        self.limits = limits
        self.shared = shared
        self.nextServer = nextServer
    }

    // MARK: Counts, read from the structures

    public var serverCount: Int { servers.count }
    public var idleCount: Int { idle.count }
    public var activeCount: Int { servers.values.reduce(0) { $0 + ($1.state.isActive ? 1 : 0) } }
    /// Servers logging in: kept as a count (every wait asks, and a scan of the servers showed up in profiles).
    public internal(set) var connectingCount = 0
    public var waitingCount: Int { waiters.count }

    /// True while max_idle_transaction_servers or more servers of the whole pool are stalled in transactions:
    /// waiters that open a transaction take no server (statements outside transactions still do).
    public var transactionGateClosed: Bool {
        shared.stalledTotal >= limits.maxIdleTransactionServers
    }

    // MARK: Events

    /// A client on this loop needs a server.
    public mutating func acquire(_ tag: ClientTag, now: ContinuousClock.Instant) -> AcquireAction {
        if runState == .paused {
            enqueue(tag, since: now)
            return .wait
        }
        if tag.opensTransaction, transactionGateClosed {
            enqueue(tag, since: now)
            return .wait
        }
        if admitsApplication(tag), let server = takeIdle() {
            return use(server, for: tag, now: now).acquireAction
        }
        if servers.isEmpty, shared.loginsPaused(at: now) {
            return .refuse
        }
        // Published before looking at the others (and they publish idle servers before looking for waiters):
        // one of the two always sees the other.
        enqueue(tag, since: now)
        // An idle server on another loop is a cross-loop hop away; a new one is a connect and a login away:
        // steal first, and open only if the steal comes back empty (`stealFailed`).
        if let other = shared.idleElsewhere(than: loop) {
            return .waitAndSteal(from: other)
        }
        if let open = openIfUseful(now: now) {
            return .openAndWait(open)
        }
        return .wait
    }

    /// A waiting client gave up (disconnected or timed out); false if it was not waiting.
    @discardableResult
    public mutating func cancelWait(_ client: ClientID) -> Bool {
        defer { publishWaiters() }
        return waiters.remove(client)
    }

    /// A server finished logging in, a reset finished, or a check passed: hand it to a waiter or keep it.
    public mutating func serverReady(_ id: ServerID, now: ContinuousClock.Instant) -> HandoffAction {
        guard let server = servers[id] else { return .idle }
        switch server.state {
        case .connecting:
            connectingCount -= 1
            shared.resumeLogins()  // a login worked: the server is reachable again
        case .resetting, .checking:
            break
        case .idle, .active:
            return .idle  // a stale report: ignore it
        }
        return makeAvailable(id, now: now)
    }

    /// The client released its server. `needsReset`: the server is not idle-clean. `reusable: false` closes it.
    public mutating func release(
        _ id: ServerID, needsReset: Bool, reusable: Bool = true, now: ContinuousClock.Instant
    ) -> HandoffAction {
        guard let index = servers.index(forKey: id), case .active = servers.values[index].state else {
            return .idle  // stale release: ignore
        }
        unlend(at: index)
        // Read in place: a copy of the record retains its holder's strings and its claim.
        let expired = limits.lifetime.map { now - servers.values[index].openedAt >= $0 } ?? false
        if !reusable || expired || servers.values[index].generation < generation {
            drop(id)
            return .close(id, open: openIfUseful(now: now))
        }
        if needsReset {
            servers.values[index].state = .resetting
            return .reset(id)
        }
        return makeAvailable(id, now: now)
    }

    /// A server connection closed, failed to log in, or failed its check or reset. `loginFailed`: it never
    /// became usable, so waiters with no other server coming are failed rather than left hanging.
    public mutating func serverLost(_ id: ServerID, loginFailed: Bool, now: ContinuousClock.Instant) -> LossAction {
        guard let index = servers.index(forKey: id) else { return LossAction() }
        unlend(at: index)
        let server = servers.values[index]
        drop(id)
        var action = LossAction()
        if case .checking(let tag) = server.state {
            // The client was promised this server: it goes back to the front of the line.
            var requeued = WaitQueue()
            requeued.append(tag, since: now)
            for entry in waiters.removeAll() { requeued.append(entry.tag, since: entry.since) }
            waiters = requeued
            if let other = takeIdle(), let waiter = waiters.popFirst() {
                switch use(other, for: waiter.tag, now: now) {
                case .assign(let id): action.handoff = .assign(id, to: waiter.tag)
                case .check(let id, let tag): action.handoff = .check(id, for: tag)
                }
            }
            publishWaiters()
        }
        if loginFailed {
            if limits.loginRetry > .zero { shared.pauseLogins(until: now + limits.loginRetry) }
            // Servers still alive or connecting here can serve some waiters; fail the rest now.
            let coming = servers.count
            var kept = WaitQueue()
            for entry in waiters.removeAll() {
                if kept.count < coming { kept.append(entry.tag, since: entry.since) } else { action.failed.append(entry.tag) }
            }
            waiters = kept
            publishWaiters()
            return action
        }
        action.open = openIfUseful(now: now)
        return action
    }

    /// The shard on another loop has a client waiting and asks for an idle server: one moves there if this shard
    /// has one nobody here waits for.
    public mutating func stealRequested(now: ContinuousClock.Instant) -> MovingServer? {
        guard runState == .running, firstAdmissibleWaiter == nil, let id = idle.first else { return nil }
        // The least recently used: the ones used last stay warm here.
        idle.removeFirst()
        publishIdle()
        return depart(id)
    }

    /// The loop asked for an idle server had none left (its own clients took it): open one here if the waiters
    /// still need it and the bounds allow.
    public mutating func stealFailed(now: ContinuousClock.Instant) -> ServerID? {
        openIfUseful(now: now)
    }

    /// A server moved here from another loop: a waiter here takes it, or it stays idle.
    public mutating func adopt(_ moving: MovingServer, now: ContinuousClock.Instant) -> HandoffAction {
        servers[moving.id] = Server(
            id: moving.id, state: .resetting, openedAt: moving.openedAt, generation: moving.generation,
            claim: moving.claim, fromReserve: moving.fromReserve)
        if moving.generation < generation {
            drop(moving.id)
            return .close(moving.id, open: nil)
        }
        return makeAvailable(moving.id, now: now, arrived: true)
    }

    // MARK: Upkeep

    /// What periodic upkeep decided.
    public struct Upkeep: Sendable, Equatable {
        /// Idle servers to close.
        public var close: [ServerID] = []
        /// Servers to open here.
        public var open: [ServerID] = []
        /// Waiters given up after query_wait_timeout: answer each with an error.
        public var timedOut: [ClientTag] = []
        /// Idle servers to move to loops whose clients wait (a last resort: releases and steals move them
        /// sooner).
        public var moves: [(MovingServer, Int)] = []

        public static func == (lhs: Upkeep, rhs: Upkeep) -> Bool {
            lhs.close == rhs.close && lhs.open == rhs.open && lhs.timedOut == rhs.timedOut
                && lhs.moves.map(\.0) == rhs.moves.map(\.0) && lhs.moves.map(\.1) == rhs.moves.map(\.1)
        }
    }

    /// Idle servers past `server_idle_timeout` or `server_lifetime` closed (keeping min_pool_size across the
    /// pool), this shard's part of min_pool_size opened, waiters past query_wait_timeout given up.
    public mutating func maintain(now: ContinuousClock.Instant) -> Upkeep {
        var upkeep = Upkeep()
        var kept: [ServerID] = []
        for id in idle {
            guard let server = servers[id], case .idle(let since) = server.state else { continue }
            let expired = isPastLifetime(server, now: now) || server.generation < generation
                || (limits.idleTimeout.map { now - since >= $0 } ?? false)
            if expired, shared.poolSize.used + shared.reserve.used > limits.minPoolSize || server.generation < generation {
                servers[id]?.claim.giveBack()
                servers[id] = nil
                upkeep.close.append(id)
            } else {
                kept.append(id)
            }
        }
        idle = kept
        publishIdle()
        if let timeout = limits.queryWaitTimeout, let oldest = waiters.waiting.first, now - oldest.since >= timeout {
            upkeep.timedOut = waiters.removeAll(waitingSince: now - timeout).map(\.tag)
            publishWaiters()
        }
        if shared.loginsPaused(at: now) { return upkeep }
        // This shard's part of min_pool_size: the pool's minimum spread over the loops like the clients are.
        let loops = shared.shards.count
        let share = limits.minPoolSize / loops + (loop < limits.minPoolSize % loops ? 1 : 0)
        while servers.count < min(share, limits.poolSize), let id = open(now: now, reserve: false) {
            upkeep.open.append(id)
        }
        // Waiters left without a server on its way (after a login retry pause, or room that freed up).
        while let id = openIfUseful(now: now) {
            upkeep.open.append(id)
        }
        // Idle servers here while another loop's clients wait: move them (the moment they went idle may have
        // raced with those clients starting to wait).
        if firstAdmissibleWaiter == nil, runState == .running {
            while !idle.isEmpty, let (other, _) = shared.oldestWaiterElsewhere(than: loop) {
                let id = idle.removeFirst()
                upkeep.moves.append((depart(id), other))
                if shared.shards[other].waiting.load(ordering: .relaxed) <= 1 { break }
            }
            publishIdle()
        }
        return upkeep
    }

    /// Removes every waiter (pool shutting down or database removed).
    public mutating func removeAllWaiters() -> [ClientTag] {
        defer { publishWaiters() }
        return waiters.removeAll().map(\.tag)
    }

    /// Removes the server from the books, giving back its claim, without any other effect (the caller closes it).
    public mutating func forget(_ id: ServerID) {
        guard let index = servers.index(forKey: id) else { return }
        unlend(at: index)
        drop(id)
    }

    /// Idle servers, for closing them all (RECONNECT, shutdown).
    public var idleServers: [ServerID] { idle }
}

extension PoolShard.ServerState {
    /// Lent to a client or being prepared for one.
    public var isActive: Bool {
        switch self {
        case .active, .checking: true
        default: false
        }
    }
}
