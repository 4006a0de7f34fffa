import Logging
import NIOCore
import SpillwayCore

/// How many more servers a pool may open, and in words which limit stops it.
extension PoolExecutor {
    /// Which limit keeps `key` from opening another server, in words for error messages.
    func limitReached(_ key: PoolKey, in state: State) -> String {
        guard let entry = state.pools[key] else { return "no such pool" }
        let limits = entry.machine.limits
        if entry.machine.runState == .paused { return "the pool is paused (PAUSE)" }
        if entry.machine.serverCount >= limits.poolSize + limits.reservePoolSize {
            return "all \(entry.machine.serverCount) servers are in use (pool_size \(limits.poolSize) + "
                + "reserve_pool_size \(limits.reservePoolSize))"
        }
        if entry.machine.serverCount >= limits.poolSize {
            return "all \(entry.machine.serverCount) servers are in use (pool_size \(limits.poolSize))"
        }
        return limitName(for: key, in: state) ?? "no server could be opened"
    }

    /// The cross-pool budget that is exhausted for `key`, if one is.
    func limitName(for key: PoolKey, in state: State) -> String? {
        guard let index = state.pools.index(forKey: key) else { return nil }
        let entry = state.pools.values[index]
        if entry.databaseLimit > 0 {
            let used = state.pools.values.reduce(0) { $0 + ($1.machine.key.database == key.database ? $1.machine.serverCount : 0) }
            if used >= entry.databaseLimit { return "max_db_connections \(entry.databaseLimit) reached for \(key.database)" }
        }
        if entry.userLimit > 0 {
            let used = state.pools.values.reduce(0) { $0 + ($1.machine.key.user == key.user ? $1.machine.serverCount : 0) }
            if used >= entry.userLimit { return "max_user_connections \(entry.userLimit) reached for \(key.user)" }
        }
        return nil
    }

    /// Servers the other budgets (max_db_connections, max_user_connections) still allow for `key`.
    func capacity(for key: PoolKey, in state: State) -> Int {
        guard let index = state.pools.index(forKey: key) else { return 0 }
        if state.pools.values[index].breakGlass { return hostCapacity(for: key, in: state) }
        let databaseLimit = state.pools.values[index].databaseLimit
        let userLimit = state.pools.values[index].userLimit
        var remaining = hostCapacity(for: key, in: state)
        if databaseLimit > 0 {
            let used = state.pools.values.reduce(0) { $0 + ($1.machine.key.database == key.database ? $1.machine.serverCount : 0) }
            remaining = min(remaining, databaseLimit - used)
        }
        if userLimit > 0 {
            let used = state.pools.values.reduce(0) { $0 + ($1.machine.key.user == key.user ? $1.machine.serverCount : 0) }
            remaining = min(remaining, userLimit - used)
        }
        return remaining
    }
}
