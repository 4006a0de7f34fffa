import Logging
import NIOCore
import SpillwayCore

/// How many more servers a pool may open, and in words which limit stops it.
extension PoolExecutor {
    /// Which limit keeps `key` from opening another server, in words for error messages.
    func limitReached(_ key: PoolKey, in state: inout State) -> String {
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
        return limitName(for: key, in: &state) ?? "no server could be opened"
    }

    /// The cross-pool budget that is exhausted for `key`, if one is.
    func limitName(for key: PoolKey, in state: inout State) -> String? {
        guard let index = state.pools.index(forKey: key) else { return nil }
        let entry = state.pools.values[index]
        if entry.databaseLimit > 0 {
            let used = state.serverCount { $0.database == key.database }
            if used >= entry.databaseLimit { return "max_db_connections \(entry.databaseLimit) reached for \(key.database)" }
        }
        if entry.userLimit > 0 {
            let used = state.serverCount { $0.user == key.user }
            if used >= entry.userLimit { return "max_user_connections \(entry.userLimit) reached for \(key.user)" }
        }
        return nil
    }

    /// Servers the other budgets (max_db_connections, max_user_connections, the host's) still allow for `key`.
    /// Runs at every acquire and release: entries are read in place (`State.read`), never copied.
    func capacity(for key: PoolKey, in state: inout State) -> Int {
        guard let index = state.pools.index(forKey: key) else { return 0 }
        let (breakGlass, databaseLimit, userLimit) = state.read(index) { ($0.breakGlass, $0.databaseLimit, $0.userLimit) }
        if breakGlass { return hostCapacity(for: key, in: &state) }
        var remaining = hostCapacity(for: key, in: &state)
        if databaseLimit > 0 {
            let used = state.serverCount { $0.database == key.database }
            remaining = min(remaining, databaseLimit - used)
        }
        if userLimit > 0 {
            let used = state.serverCount { $0.user == key.user }
            remaining = min(remaining, userLimit - used)
        }
        return remaining
    }
}

extension PoolExecutor.State {
    /// Reads from the entry at `index` in place: the modify accessor lends it without the copy (and the retains
    /// of all its tables) the getter of `Dictionary.Values` makes.
    @inline(__always)
    mutating func read<R>(_ index: Dictionary<PoolKey, PoolExecutor.PoolEntry>.Index, _ body: (inout PoolExecutor.PoolEntry) -> R) -> R {
        body(&pools.values[index])
    }

    /// Servers of the pools whose key matches.
    mutating func serverCount(where matches: (PoolKey) -> Bool) -> Int {
        var total = 0
        var index = pools.startIndex
        while index != pools.endIndex {
            if matches(pools.keys[index]) { total += read(index) { $0.machine.servers.count } }
            pools.formIndex(after: &index)
        }
        return total
    }
}
