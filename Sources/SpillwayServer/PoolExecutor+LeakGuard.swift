import NIOCore
import SpillwayCore

/// The leak guard's side of the executor: idle-in-transaction reclaim while clients wait, and the timeouts
/// that upkeep enforces from the clients' published activity.
extension PoolExecutor {
    /// Why a client loses its server.
    enum ReclaimReason: Sendable {
        /// Others waited while more than max_idle_transaction_servers servers sat idle in transactions.
        case contention(limit: Int, pool: PoolKey)
        /// idle_transaction_timeout passed.
        case timeout(seconds: Double)
    }

    /// Monotonic nanoseconds, the clock of `ClientActivity`.
    static func nanos() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Under the lock: holders of `key` to reclaim now, when the pool's idle-in-transaction count passes its
    /// cap (read lock-free first: the usual answer is "no", for nothing).
    func reclaimCandidates(_ key: PoolKey, in state: inout State) -> [PoolStateMachine.Reclaim] {
        guard let index = state.pools.index(forKey: key) else { return [] }
        refreshStalled(index, in: &state)
        // Read in place: a copy of the entry would retain all its tables, on the path of every wait.
        let worthALook = state.read(index) { entry in
            entry.gauges.idleInTransactionCount >= entry.machine.limits.maxIdleTransactionServers
                && !entry.machine.waiters.isEmpty
        }
        guard worthALook else { return [] }
        let clients = state.clients
        let now = Self.nanos()
        return state.pools.values[index].machine.reclaimIdleTransactions { id in
            clients[id].flatMap { ClientActivity(word: $0.activity.load(ordering: .relaxed)).idleInTransaction(at: now) }
        }
    }

    /// Under the lock: hands the pool's count of holders idle inside a transaction (the lock-free gauge, kept by
    /// the clients as they go idle and busy) to the transaction gate. Counting every idle holder, not only
    /// long-idle ones, keeps a leaking job from refilling the pool in the moment after a reclaim.
    func refreshStalled(_ index: Dictionary<PoolKey, PoolEntry>.Index, in state: inout State) {
        let idle = state.read(index) { $0.gauges.idleInTransactionCount }
        if state.read(index, { $0.machine.stalledTransactionHolders != idle }) {
            state.pools.values[index].machine.stalledTransactionHolders = idle
        }
    }

    /// Tells each chosen holder to give its server back (on its loop, where it checks it is still idle).
    func carryOut(_ reclaims: [PoolStateMachine.Reclaim], key: PoolKey, reason: ReclaimReason? = nil) {
        let limit = config.settings.maxIdleTransactionServers
        for reclaim in reclaims {
            guard let client = state.withLockedValue({ $0.clients[reclaim.client] }) else {
                reclaimAbandoned(reclaim.server, key: key)
                continue
            }
            let why = reason ?? .contention(limit: limit ?? state.withLockedValue {
                $0.pools[key]?.machine.limits.maxIdleTransactionServers ?? 0
            }, pool: key)
            client.onLoop { client.reclaim(reclaim.server, idleFor: reclaim.idleFor, reason: why) }
        }
    }

    /// The holder was busy again by the time the reclaim reached it: it keeps its server.
    func reclaimAbandoned(_ server: ServerID, key: PoolKey) {
        state.withLockedValue { state in
            state.withPool(key) { $0.machine.reclaimAbandoned(server) }
        }
    }

    /// Every 100 ms, for pools with waiters: idle-in-transaction holders past the cap give servers back, and
    /// a full pool whose waiting application holds less than its share (or waited reserve_pool_timeout) opens a
    /// reserve server.
    func reclaimTick() {
        let now = ContinuousClock.now
        var idleWhileWaiting: [PoolKey] = []
        let (work, opens) = state.withLockedValue { state -> ([(PoolKey, [PoolStateMachine.Reclaim])], [OpenWork]) in
            var work: [(PoolKey, [PoolStateMachine.Reclaim])] = []
            var opens: [OpenWork] = []
            let waiting = state.pools.indices.filter { index in state.read(index) { !$0.machine.waiters.isEmpty } }
                .map { state.pools.keys[$0] }
            for key in waiting {
                let reclaims = reclaimCandidates(key, in: &state)
                if !reclaims.isEmpty { work.append((key, reclaims)) }
                let room = capacity(for: key, in: &state)
                if let open = state.withPool(key, { $0.machine.openReserveIfWanted(now: now, capacity: room) }) ?? nil {
                    opens.append(makeServer(open.server, loop: open.loop, key: key, state: &state))
                }
                if state.withPool(key, { $0.machine.hasIdleWhileWaiting }) == true { idleWhileWaiting.append(key) }
            }
            return (work, opens)
        }
        for (key, reclaims) in work { carryOut(reclaims, key: key) }
        for open in opens { self.open(open) }
        // The transaction gate may have opened: idle servers held back from waiting transactions go out now.
        for key in idleWhileWaiting { serveAcrossLoops(key, loop: loops[0]) }
    }

    /// Once a second: idle_transaction_timeout, client_idle_timeout and query_timeout, from what each client
    /// last published.
    func enforceClientTimeouts() {
        let settings = config.settings
        let now = Self.nanos()
        let idleTransaction = settings.idleTransactionTimeout
        let expired = state.withLockedValue { state -> [(PoolKey, [PoolStateMachine.Reclaim])] in
            guard idleTransaction > 0 else { return [] }
            let clients = state.clients
            var expired: [(PoolKey, [PoolStateMachine.Reclaim])] = []
            for key in Array(state.pools.keys) {
                let found = state.withPool(key) { entry in
                    entry.machine.idleTransactionsPast(.milliseconds(Int64(idleTransaction * 1000))) { id in
                        clients[id].flatMap {
                            ClientActivity(word: $0.activity.load(ordering: .relaxed)).idleInTransaction(at: now)
                        }
                    }
                } ?? []
                if !found.isEmpty { expired.append((key, found)) }
            }
            return expired
        }
        for (key, reclaims) in expired {
            carryOut(reclaims, key: key, reason: .timeout(seconds: idleTransaction))
        }
        let clientIdle = settings.clientIdleTimeout
        let queryTimeout = settings.queryTimeout
        guard clientIdle > 0 || queryTimeout > 0 else { return }
        let clients = state.withLockedValue { Array($0.clients.values) }
        for client in clients {
            switch ClientActivity(word: client.activity.load(ordering: .relaxed)) {
            case .idle(let since) where clientIdle > 0 && now &- since >= UInt64(clientIdle * 1e9):
                client.onLoop { client.idleTimedOut(after: clientIdle) }
            case .busy(let since) where queryTimeout > 0 && now &- since >= UInt64(queryTimeout * 1e9):
                client.onLoop { client.queryTimedOut(after: queryTimeout) }
            default:
                break
            }
        }
    }
}
