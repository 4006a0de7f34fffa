import Logging
import PostgresWire
import SpillwayCore

/// RELOAD (and SIGHUP) and SET on the engine: a new configuration for new logins, and every pool's bounds
/// changed in place — the shared counters keep their counts, only their limits move.
extension DataPlane {
    /// Reads the configuration file and auth_file again and applies them without dropping anyone. A file with
    /// an error is refused as a whole and the running configuration stays.
    func reloadFiles() -> Result<Void, ConfigError> {
        let current = runtime
        guard let path = current.config.path else {
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
        for definition in SettingsTable.all where !definition.reloadable
            && definition.currentText(current.settings) != definition.currentText(next.settings) {
            logger.warning("setting changed in the file takes effect only after a restart", metadata: ["key": "\(definition.name)"])
        }
        apply(next)
        reopenLog.withLock { $0 }?(next.settings.logfile)
        for warning in next.config.warnings { logger.warning("\(warning.description)") }
        logger.info("configuration reloaded", metadata: ["file": "\(path)"])
        return .success(())
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
        let current = runtime
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

    /// Makes `next` the configuration of new logins and moves every pool's limits and shared bounds to it. A
    /// pool whose database moved (host, port, dbname) replaces its servers: idle ones now, lent ones when
    /// released.
    func apply(_ next: RuntimeConfig) {
        runtimeBox.withLock { $0 = next }
        clientConnections.setLimit(next.settings.maxClientConn)
        var moved: [String] = []
        let infos = pools.withLock { Array($0.values) }
        for info in infos {
            guard let database = next.config.database(named: info.key.database) else { continue }
            let limits = next.limits(database: database, user: info.key.user)
            info.limits = limits
            info.shared.poolSize.setLimit(limits.poolSize)
            info.shared.reserve.setLimit(limits.reservePoolSize)
            for (name, limit) in Self.boundLimits(key: info.key, runtime: next) {
                bounds.withLock { $0[name] }?.setLimit(limit)
            }
            let target = ServerTarget(database: database, user: info.key.user)
            if target.address.description != info.target.address.description || target.database != info.target.database {
                info.target = target
                moved.append(info.key.database)
            }
        }
        reloadBudgets(next.settings)
        broadcast { $0.apply(next) }
        if !moved.isEmpty {
            // The pool's servers are replaced; new ones connect where the file now says.
            for database in Set(moved) { reconnect(database: database) }
        }
    }
}
