import Logging
import SpillwayCore

/// server_connection_budget on the engine: a ceiling per PostgreSQL host over every pool, read from the server
/// itself (auto) or set, as two shared bounds per host — the applications' (the budget less the break-glass
/// reserve) and the break-glass users' reserve — that every shard of every pool on the host takes from.
extension DataPlane {
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

    struct HostEntry {
        var budget: HostBudget
        /// Taken by every pool of the host but the break-glass users'.
        let others: SharedLimit
        /// Taken by the break-glass users' pools: their reserve, out of the applications' reach.
        let breakGlass: SharedLimit
    }

    struct BudgetBook {
        var hosts: [String: HostEntry] = [:]
    }

    /// The break-glass reserve on each host.
    static func breakGlassReserve(_ settings: Settings) -> Int {
        settings.breakGlassPoolSize * settings.breakGlassUsers.count
    }

    /// The shared bounds of `host`, made with the budget the settings give (auto: one server until read).
    func hostBounds(_ host: String, settings: Settings) -> HostEntry {
        budgets.withLock { book in
            if let known = book.hosts[host] { return known }
            let reserve = Self.breakGlassReserve(settings)
            let budget: HostBudget = settings.serverConnectionBudget.map { .known(limit: $0, fresh: true) } ?? .unknown
            let entry = HostEntry(
                budget: budget,
                others: SharedLimit(name: "server_connection_budget \(host)", limit: Self.othersLimit(budget, reserve: reserve)),
                breakGlass: SharedLimit(name: "break_glass_pool_size \(host)", limit: reserve))
            book.hosts[host] = entry
            return entry
        }
    }

    /// Servers the applications may have on a host under `budget`.
    static func othersLimit(_ budget: HostBudget, reserve: Int) -> Int {
        switch budget {
        case .known(let limit, _), .learning(let limit?): max(limit - reserve, 0)
        // Until the server has said what it allows, one connection at a time: the one that asks.
        case .unknown, .learning(nil): 1
        case .unavailable: .max
        }
    }

    /// A server of `host` logged in: true when it should read the host's budget before serving anyone (the
    /// budget is auto and not read since start or the last RELOAD).
    func budgetToLearn(host: String) -> Bool {
        budgets.withLock { book in
            guard var entry = book.hosts[host] else { return false }
            switch entry.budget {
            case .unknown: entry.budget = .learning(previous: nil)
            case .known(let limit, false): entry.budget = .learning(previous: limit)
            case .known(_, true), .learning, .unavailable: return false
            }
            book.hosts[host] = entry
            return true
        }
    }

    /// The budget query's answer (or its failure) for `host`.
    func budgetRead(_ result: Result<[[String?]], ServerFailure>, host: String) {
        let settings = runtime.settings
        switch result {
        case .success(let rows):
            if let row = rows.first,
                let (budget, backends) = ServerBudget.parse(row, headroom: settings.budgetHeadroom, instances: settings.instances)
            {
                setBudget(.known(limit: budget.limit, fresh: true), host: host)
                logBudget(budget, backends: backends, host: host)
            } else {
                budgetUnavailable(host: host, reason: "unexpected answer \(rows)")
            }
        case .failure(let failure):
            budgetUnavailable(host: host, reason: failure.message)
        }
    }

    /// The server reading the budget was lost first: the next login reads it.
    func budgetReadInterrupted(host: String) {
        let previous: HostBudget? = budgets.withLock { $0.hosts[host]?.budget }
        if case .learning(let limit)? = previous { setBudget(limit.map { .known(limit: $0, fresh: false) } ?? .unknown, host: host) }
    }

    private func budgetUnavailable(host: String, reason: String) {
        logger.warning("could not read the server's connection budget; only the pools' limits apply", metadata: [
            "host": "\(host)", "reason": "\(reason)",
            "fix": "set server_connection_budget to a number, or let the role read pg_stat_activity",
        ])
        setBudget(.unavailable, host: host)
    }

    private func setBudget(_ budget: HostBudget, host: String) {
        let reserve = Self.breakGlassReserve(runtime.settings)
        budgets.withLock { book in
            guard var entry = book.hosts[host] else { return }
            entry.budget = budget
            entry.others.setLimit(Self.othersLimit(budget, reserve: reserve))
            entry.breakGlass.setLimit(reserve)
            book.hosts[host] = entry
        }
    }

    private func logBudget(_ budget: ServerBudget, backends: Int, host: String) {
        let config = runtime.config
        // What the configuration could open there: every configured database on the host at its pool size and
        // reserve (one user each; more users multiply it).
        let worstCase = config.databases.values.filter { database in
            ServerTarget(database: database, user: "").address.description == host
        }.reduce(0) { $0 + config.poolSize(database: $1, user: "") + config.reservePoolSize(database: $1) }
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

    /// RELOAD: a set budget applies at once; read ones are read again at the next server login (the old limit
    /// holds meanwhile); the break-glass reserve follows the settings.
    func reloadBudgets(_ settings: Settings) {
        let hosts = budgets.withLock { Array($0.hosts.keys) }
        for host in hosts {
            let current = budgets.withLock { $0.hosts[host]?.budget } ?? .unknown
            let next: HostBudget
            if let explicit = settings.serverConnectionBudget {
                next = .known(limit: explicit, fresh: true)
            } else {
                switch current {
                case .known(let limit, _): next = .known(limit: limit, fresh: false)
                case .unavailable: next = .unknown
                case .unknown, .learning: next = current
                }
            }
            setBudget(next, host: host)
        }
    }
}
