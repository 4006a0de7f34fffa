import Logging
import SpillwayCore

/// server_connection_budget: a ceiling per PostgreSQL host over every pool, read from the server itself, and
/// the break-glass servers kept out of the applications' reach.
extension PoolExecutor {
    /// What is known of one host's budget.
    enum HostBudget: Sendable {
        /// Not read yet (auto): one server may open, and reads it once logged in.
        case unknown
        /// A server is reading it now; `previous` is the limit read before a RELOAD, still in force.
        case learning(previous: Int?)
        /// Servers this instance may open to the host; `fresh` is false after a RELOAD until read again.
        case known(limit: Int, fresh: Bool)
        /// The server would not say (permissions, an old server): no ceiling besides the pools'.
        case unavailable
    }

    /// The host a pool's servers go to, as budgets are keyed.

    func isBreakGlass(_ key: PoolKey, settings: Settings) -> Bool {
        settings.breakGlassUsers.contains(key.user)
    }

    /// Servers the host budget still allows for `key` (Int.max when the budget is not known yet). Break-glass
    /// pools share their own reserve; everyone else shares the budget minus that reserve.
    func hostCapacity(for key: PoolKey, in state: inout State) -> Int {
        guard let index = state.pools.index(forKey: key) else { return 0 }
        // Read in place (`State.read`): a copy of an entry retains all its tables, and this runs at every acquire.
        let (host, breakGlass, budget) = state.read(index) { ($0.host, $0.breakGlass, $0.hostBudget) }
        let reserve = state.breakGlassReserve
        var usedByOthers = 0
        var usedByBreakGlass = 0
        var position = state.pools.startIndex
        while position != state.pools.endIndex {
            let (sameHost, count, isBreakGlass) = state.read(position) {
                ($0.host == host, $0.machine.servers.count, $0.breakGlass)
            }
            if sameHost {
                if isBreakGlass { usedByBreakGlass += count } else { usedByOthers += count }
            }
            state.pools.formIndex(after: &position)
        }
        if breakGlass { return max(reserve - usedByBreakGlass, 0) }
        let limit: Int
        switch budget {
        case .known(let known, _), .learning(let known?): limit = known
        case .unknown, .learning(nil):
            // Until the server has said what it allows, one connection at a time: the one that asks.
            return max(1 - usedByOthers - usedByBreakGlass, 0)
        case .unavailable: return .max
        }
        return max(limit - reserve - usedByOthers, 0)
    }

    /// Called when a server has logged in: if its host's budget is still to be read (auto), read it on this
    /// server before it serves anyone. `then` runs either way.
    func learnBudgetIfNeeded(_ server: ServerConnection, then: @escaping @Sendable () -> Void) {
        let settings = config.settings
        let host = server.target.address.description
        let mustLearn = state.withLockedValue { state -> Bool in
            if let explicit = settings.serverConnectionBudget {
                state.setBudget(.known(limit: explicit, fresh: true), host: host)
                return false
            }
            switch state.hostBudgets[host] ?? .unknown {
            case .unknown:
                state.setBudget(.learning(previous: nil), host: host)
                return true
            case .known(let limit, false):
                state.setBudget(.learning(previous: limit), host: host)
                return true
            case .known(_, true), .learning, .unavailable:
                return false
            }
        }
        guard mustLearn else { return then() }
        server.runInternalQuery(ServerBudget.query) { result in
            switch result {
            case .success(let rows):
                if let row = rows.first,
                   let (budget, backends) = ServerBudget.parse(row, headroom: settings.budgetHeadroom, instances: settings.instances)
                {
                    self.budgetLearned(budget, backends: backends, host: host)
                } else {
                    self.budgetUnavailable(host: host, reason: "unexpected answer \(rows)")
                }
            case .failure(let failure):
                self.budgetUnavailable(host: host, reason: failure.message)
            }
            then()
        }
    }

    private func budgetUnavailable(host: String, reason: String) {
        logger.warning("could not read the server's connection budget; only the pools' limits apply", metadata: [
            "host": "\(host)", "reason": "\(reason)",
            "fix": "set server_connection_budget to a number, or let the role read pg_stat_activity",
        ])
        state.withLockedValue { $0.setBudget(.unavailable, host: host) }
    }

    private func budgetLearned(_ budget: ServerBudget, backends: Int, host: String) {
        let runtime = config
        let worstCase = state.withLockedValue { state -> Int in
            state.setBudget(.known(limit: budget.limit, fresh: true), host: host)
            // What the configuration could open there: every configured database on the host at its pool
            // size and reserve (one user each; more users multiply it).
            return runtime.config.databases.values.filter { database in
                ServerTarget(database: database, user: "").address.description == host
            }.reduce(0) { $0 + runtime.config.poolSize(database: $1, user: "") + runtime.config.reservePoolSize(database: $1) }
        }
        logger.info("server connection budget", metadata: [
            "host": "\(host)", "max_connections": "\(budget.maxConnections)",
            "reserved": "\(budget.superuserReserved + budget.reserved)", "headroom": "\(budget.headroom)",
            "instances": "\(budget.instances)", "budget": "\(budget.limit)", "client_backends_now": "\(backends)",
        ])
        if worstCase > budget.limit {
            logger.warning("the configured pools could exceed the server's connection budget; Spillway will hold them to it", metadata: [
                "host": "\(host)", "worst_case": "\(worstCase)", "budget": "\(budget.limit)",
            ])
        }
    }

    /// RELOAD: budgets are read again on the next server login (the old ones hold meanwhile).
    func forgetBudgets() {
        state.withLockedValue { state in
            for (host, budget) in state.hostBudgets {
                switch budget {
                case .known(let limit, _): state.setBudget(.known(limit: limit, fresh: false), host: host)
                case .unavailable: state.setBudget(.unknown, host: host)
                case .unknown, .learning: break
                }
            }
            state.breakGlassReserve = config.settings.breakGlassPoolSize * config.settings.breakGlassUsers.count
        }
    }
}

extension PoolExecutor.State {
    /// Records a host's budget, and copies it into each of the host's pools, where the capacity check made at
    /// every acquire reads it without hashing the host's name.
    mutating func setBudget(_ budget: PoolExecutor.HostBudget, host: String) {
        hostBudgets[host] = budget
        var index = pools.startIndex
        while index != pools.endIndex {
            read(index) { entry in
                if entry.host == host { entry.hostBudget = budget }
            }
            pools.formIndex(after: &index)
        }
    }
}
