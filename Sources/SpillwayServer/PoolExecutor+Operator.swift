import Logging
import NIOCore
import PostgresWire
import SpillwayCore

/// What the admin console and signals ask of the pools: reports, reload, PAUSE/RESUME, RECONNECT, KILL, SET.
extension PoolExecutor {
    /// Every pool, sorted by database then user.
    func poolReports(now: ContinuousClock.Instant) -> [PoolReport] {
        state.withLockedValue { state in
            var clientsPerPool: [PoolKey: Int] = [:]
            for key in state.clientPools.values { clientsPerPool[key, default: 0] += 1 }
            return state.pools.map { key, entry in
                let machine = entry.machine
                let testing = machine.servers.values.reduce(0) { count, server in
                    switch server.state {
                    case .checking, .resetting: count + 1
                    default: count
                    }
                }
                return PoolReport(
                    key: key, mode: entry.mode, clients: clientsPerPool[key] ?? 0, waiting: machine.waitingCount,
                    active: machine.activeCount - machine.servers.values.filter { if case .checking = $0.state { true } else { false } }.count,
                    idle: machine.idleCount, connecting: machine.connectingCount, testing: testing,
                    oldestWait: machine.waiters.waiting.first.map { now - $0.since },
                    poolSize: machine.limits.poolSize, target: entry.target, stats: entry.stats)
            }.sorted { ($0.key.database, $0.key.user) < ($1.key.database, $1.key.user) }
        }
    }

    // MARK: Reload

    /// RELOAD / SIGHUP: reads the configuration file and auth_file again and applies them without dropping
    /// anyone. A file with an error is refused as a whole and the running configuration stays.
    func reload() -> Result<Void, ConfigError> {
        guard let path = config.config.path else {
            return .failure(ConfigError(diagnostic: ConfigDiagnostic(
                file: "(none)", line: 0, key: nil, message: "spillway was started without a configuration file")))
        }
        let next: RuntimeConfig
        do {
            let config = try Config.load(path: path)
            var userList = UserList(passwords: [:])
            if let authFile = config.settings.authFile { userList = try UserList.load(path: authFile) }
            next = RuntimeConfig(config: config, userList: userList)
        } catch {
            logger.error("reload refused; the running configuration stays", metadata: ["error": "\(error)"])
            return .failure(error)
        }
        let previous = config
        for definition in SettingsTable.all where !definition.reloadable
            && definition.currentText(previous.settings) != definition.currentText(next.settings) {
            logger.warning("setting changed in the file takes effect only after a restart", metadata: ["key": "\(definition.name)"])
        }
        apply(next)
        // logrotate moved the file away (or logfile changed): new lines go to the file now at that path.
        reopenLog.withLockedValue { $0 }?(next.settings.logfile)
        for warning in next.config.warnings { logger.warning("\(warning.description)") }
        logger.info("configuration reloaded", metadata: ["file": "\(path)"])
        return .success(())
    }

    /// Makes `next` the configuration of new logins and updates every pool's limits; a pool whose database
    /// moved (host, port, dbname) replaces its servers as they are released.
    func apply(_ next: RuntimeConfig) {
        configBox.withLockedValue { $0 = next }
        let retired = state.withLockedValue { state -> [ServerConnection] in
            var retired: [ServerConnection] = []
            for key in Array(state.pools.keys) {
                guard let database = next.config.database(named: key.database) else { continue }
                let limits = next.limits(database: database, user: key.user)
                let target = ServerTarget(database: database, user: key.user)
                let databaseLimit = next.databaseMaxConnections(key.database)
                let userLimit = next.config.maxUserConnections(user: key.user)
                let newHostBudget = state.hostBudgets[target.address.description] ?? .unknown
                let moved = state.withPool(key) { entry -> Bool in
                    entry.machine.limits = limits
                    entry.databaseLimit = databaseLimit
                    entry.userLimit = userLimit
                    entry.mode = next.config.poolMode(database: database, user: key.user)
                    entry.breakGlass = next.settings.breakGlassUsers.contains(key.user)
                    guard entry.target.address.description != target.address.description
                        || entry.target.database != target.database
                    else { return false }
                    entry.target = target
                    entry.host = target.address.description
                    entry.hostBudget = newHostBudget
                    return true
                } ?? false
                if moved {
                    for id in state.withPool(key, { $0.machine.reconnect() }) ?? [] {
                        if let server = state.servers.removeValue(forKey: id) { retired.append(server) }
                    }
                }
            }
            return retired
        }
        for server in retired { server.close() }
        forgetBudgets()
    }

    /// SET key = value from the console: a reloadable setting changes for new logins and every pool now.
    /// Not written back to the file: a RELOAD or restart returns to what the file says.
    func set(_ key: String, to value: String) -> Result<Void, ErrorResponse> {
        guard let definition = SettingsTable.definition(key) else {
            return .failure(ErrorResponse(severity: .error, code: .invalidParameterValue, message: "unknown setting: \(key)"))
        }
        guard definition.reloadable else {
            return .failure(ErrorResponse(
                severity: .error, code: .invalidParameterValue, message: "\(key) cannot be changed while running",
                hint: "Change it in the configuration file and restart spillway."))
        }
        let current = config
        var config = current.config
        do {
            try definition.apply(value, to: &config.settings)
        } catch {
            return .failure(ErrorResponse(severity: .error, code: .invalidParameterValue, message: "\(error)"))
        }
        apply(RuntimeConfig(config: config, userList: current.userList))
        logger.info("setting changed from the console", metadata: ["key": "\(definition.name)", "value": "\(value)"])
        return .success(())
    }

    /// KILL db: every client of the database is closed and its servers too; the database stays paused
    /// until RESUME, as in PgBouncer.
    func kill(database: String) {
        pause(database: database)
        let clients = state.withLockedValue { state in
            state.clientPools.compactMap { id, key in key.database == database ? state.clients[id] : nil }
        }
        for client in clients { client.onLoop { client.closeByAdministrator() } }
        reconnect(database: database)
    }


    // MARK: Operator commands (admin console)

    /// PAUSE: the matching pools lend no more servers (nil: every pool).
    func pause(database: String?) {
        state.withLockedValue { state in
            // Remembered, so that a pool first used while paused starts paused too.
            if let database { state.pausedDatabases.insert(database) } else { state.pausedAll = true }
            for index in state.pools.indices where database == nil || state.pools.keys[index].database == database {
                state.pools.values[index].machine.pause()
            }
        }
    }

    /// True when no server of the matching pools is lent out: PAUSE may report done.
    func isQuiescent(database: String?) -> Bool {
        state.withLockedValue { state in
            state.pools.allSatisfy { key, entry in
                (database != nil && key.database != database) || entry.machine.isQuiescent
            }
        }
    }

    /// RESUME: the matching pools lend again; waiters get idle servers, new ones are opened for the rest.
    func resume(database: String?) {
        let now = ContinuousClock.now
        let work = state.withLockedValue { state -> [(PoolKey, [PoolStateMachine.HandoffAction], [OpenWork])] in
            var work: [(PoolKey, [PoolStateMachine.HandoffAction], [OpenWork])] = []
            if let database {
                state.pausedDatabases.remove(database)
            } else {
                state.pausedAll = false
                state.pausedDatabases.removeAll()
            }
            for key in Array(state.pools.keys) where database == nil || key.database == database {
                let room = capacity(for: key, in: &state)
                guard let result = state.withPool(key, { $0.machine.resume(now: now, capacity: room) }) else { continue }
                let opens = result.open.map { makeServer($0.server, loop: $0.loop, key: key, state: &state) }
                work.append((key, result.handoffs, opens))
            }
            return work
        }
        for (key, handoffs, opens) in work {
            for handoff in handoffs { run(handoff, key: key, work: nil) }
            for open in opens { self.open(open) }
        }
    }

    /// RECONNECT (and the end of PAUSE): idle servers of the matching pools close now, the others when released.
    func reconnect(database: String?) {
        let closing = state.withLockedValue { state -> [ServerConnection] in
            var closing: [ServerConnection] = []
            for key in Array(state.pools.keys) where database == nil || key.database == database {
                for id in state.withPool(key, { $0.machine.reconnect() }) ?? [] {
                    if let server = state.servers.removeValue(forKey: id) { closing.append(server) }
                }
            }
            return closing
        }
        for server in closing { server.close() }
    }

    /// Whether any matching pool is paused (SHOW DATABASES).
    func isPaused(database: String) -> Bool {
        state.withLockedValue { state in
            state.pools.contains { $0.key.database == database && $0.value.machine.runState == .paused }
        }
    }

    /// True while PAUSE without a database (or SIGUSR1) holds every pool.
    var isPausedAll: Bool {
        state.withLockedValue { $0.pausedAll }
    }

    /// DISABLE / ENABLE: new logins to `database` are refused while disabled.
    func setDisabled(_ disabled: Bool, database: String) {
        state.withLockedValue { state in
            if disabled { state.disabled.insert(database) } else { state.disabled.remove(database) }
        }
    }

    func isDisabled(database: String) -> Bool {
        state.withLockedValue { $0.disabled.contains(database) }
    }

    /// KILL_CLIENT: the client with this id ("c17" or "17") is closed; false when there is none.
    func killClient(id text: String) -> Bool {
        let digits = text.hasPrefix("c") ? String(text.dropFirst()) : text
        guard let raw = UInt64(digits) else { return false }
        guard let client = state.withLockedValue({ $0.clients[ClientID(raw)] }) else { return false }
        client.onLoop { client.closeByAdministrator() }
        return true
    }

    /// SHOW CLIENTS / SHOW SERVERS: every logged-in client (or every server), each read on its own loop.
    func connectionReports(servers: Bool, on loop: EventLoop) -> EventLoopFuture<[ConnectionReport]> {
        let now = ContinuousClock.now
        var perLoop: [ObjectIdentifier: (EventLoop, [@Sendable () -> ConnectionReport])] = [:]
        state.withLockedValue { state in
            if servers {
                for server in state.servers.values {
                    perLoop[ObjectIdentifier(server.loop), default: (server.loop, [])].1.append { server.report() }
                }
            } else {
                for client in state.clients.values {
                    perLoop[ObjectIdentifier(client.loop), default: (client.loop, [])].1.append { client.report(now: now) }
                }
            }
        }
        let futures = perLoop.values.map { target, readers in target.submit { readers.map { $0() } } }
        return EventLoopFuture.whenAllSucceed(futures, on: loop).map { lists in
            lists.flatMap { $0 }.sorted { $0.connectTime < $1.connectTime }
        }
    }

    /// Counts for SHOW LISTS.
    func listCounts() -> (pools: Int, clients: Int, servers: Int, waiting: Int) {
        state.withLockedValue { state in
            (state.pools.count, state.clientConnections, state.servers.count,
             state.pools.values.reduce(0) { $0 + $1.machine.waitingCount })
        }
    }
}
