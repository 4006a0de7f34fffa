import Synchronization
import Testing

@testable import SpillwayCore

@Suite struct SharedLimitTests {
    /// A bound takes up to its limit, refuses past it, and takes again once one is given back.
    @Test func takesUpToTheLimit() {
        let limit = SharedLimit(name: "pool_size", limit: 2)
        #expect(limit.tryTake())
        #expect(limit.tryTake())
        #expect(!limit.tryTake())
        #expect(limit.used == 2)
        limit.giveBack()
        #expect(limit.available == 1)
        #expect(limit.tryTake())
    }

    /// A claim over several bounds takes all or none: a full database bound leaves the pool bound untouched,
    /// and says which bound refused.
    @Test func claimTakesAllOrNone() {
        let pool = SharedLimit(name: "pool_size", limit: 5)
        let database = SharedLimit(name: "max_db_connections", limit: 1)
        guard case .granted(let first) = ServerClaim.take([pool, database]) else {
            Issue.record("the first claim should be granted")
            return
        }
        guard case .refused(let by) = ServerClaim.take([pool, database]) else {
            Issue.record("the second claim should be refused")
            return
        }
        #expect(by === database)
        #expect(pool.used == 1)
        first.giveBack()
        #expect(pool.used == 0 && database.used == 0)
    }

    /// A lowered limit keeps the servers already counted and stops new ones until enough are given back.
    @Test func loweredLimitStopsNewServersOnly() {
        let limit = SharedLimit(name: "max_user_connections", limit: 3)
        for _ in 0..<3 { #expect(limit.tryTake()) }
        limit.setLimit(1)
        #expect(limit.used == 3)
        #expect(!limit.tryTake())
        limit.giveBack()
        limit.giveBack()
        #expect(!limit.tryTake())
        limit.giveBack()
        #expect(limit.tryTake())
    }

    /// Randomized: shards on many simulated loops open, close and move servers of pools that share database,
    /// user and host bounds, and limits change under them; after every event each bound's count equals the
    /// servers counted against it across all shards, and none is over its limit unless the limit was lowered
    /// below what was already open.
    @Test(arguments: [1, 2, 3, 4, 5])
    func countsAreExactAcrossShardsAfterEveryEvent(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let host = SharedLimit(name: "server_connection_budget", limit: 12)
        let databases = [SharedLimit(name: "max_db_connections db0", limit: 7), SharedLimit(name: "max_db_connections db1", limit: .max)]
        let users = [SharedLimit(name: "max_user_connections u0", limit: 5), SharedLimit(name: "max_user_connections u1", limit: 9)]
        // Pools: every (database, user) pair, each with its own pool_size.
        var pools: [(pool: SharedLimit, database: Int, user: Int)] = []
        for database in 0..<2 {
            for user in 0..<2 {
                pools.append((SharedLimit(name: "pool_size db\(database)/u\(user)", limit: 3 + database + user), database, user))
            }
        }
        let allLimits = [host] + databases + users + pools.map(\.pool)
        let shardCount = 8
        var shards = [[ServerClaim]](repeating: [], count: shardCount)
        var lowered: Set<ObjectIdentifier> = []
        for _ in 0..<5_000 {
            let shard = Int(random.next() % UInt64(shardCount))
            switch random.next() % 10 {
            case 0..<5:
                let (pool, database, user) = pools[Int(random.next() % UInt64(pools.count))]
                let limits = [pool, databases[database], users[user], host]
                let before = limits.map(\.used)
                switch ServerClaim.take(limits) {
                case .granted(let claim):
                    for (limit, used) in zip(limits, before) {
                        #expect(used < limit.limit, "\(limit.name) granted at \(used)/\(limit.limit)")
                    }
                    shards[shard].append(claim)
                case .refused(let by):
                    #expect(by.used >= by.limit, "\(by.name) refused with room")
                    #expect(zip(limits, before).allSatisfy { $0.used == $1 }, "a refused claim changed a count")
                }
            case 5..<8:
                guard !shards[shard].isEmpty else { continue }
                let index = Int(random.next() % UInt64(shards[shard].count))
                shards[shard].remove(at: index).giveBack()
            case 8:
                // A server moves to another loop's shard: the claim moves with it, counts do not change.
                guard !shards[shard].isEmpty else { continue }
                let target = Int(random.next() % UInt64(shardCount))
                shards[target].append(shards[shard].removeLast())
            default:
                let limit = allLimits[Int(random.next() % UInt64(allLimits.count))]
                let newLimit = Int(random.next() % 10) + 1
                if newLimit < limit.used { lowered.insert(ObjectIdentifier(limit)) }
                limit.setLimit(newLimit)
            }
            for limit in allLimits {
                let counted = shards.joined().reduce(0) { total, claim in
                    total + (claim.limits.contains { $0 === limit } ? 1 : 0)
                }
                #expect(limit.used == counted, "\(limit.name): used \(limit.used), servers counted \(counted)")
                if limit.used <= limit.limit { lowered.remove(ObjectIdentifier(limit)) }
                #expect(limit.used <= limit.limit || lowered.contains(ObjectIdentifier(limit)), "\(limit) over its limit")
            }
        }
        for claim in shards.joined() { claim.giveBack() }
        #expect(allLimits.allSatisfy { $0.used == 0 })
    }

    /// Real threads, one per simulated loop, take and give back against shared bounds as fast as they can while
    /// a watcher samples: no sample is ever over a limit, and at the end every count is back to zero.
    @Test func neverOverALimitUnderConcurrency() async {
        let pool = SharedLimit(name: "pool_size", limit: 20)
        let database = SharedLimit(name: "max_db_connections", limit: 15)
        let host = SharedLimit(name: "server_connection_budget", limit: 10)
        let watch = Watch()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !watch.stop.load(ordering: .relaxed) {
                    let over = max(pool.used - pool.limit, database.used - database.limit, host.used - host.limit)
                    if over > watch.worstSeen.load(ordering: .relaxed) { watch.worstSeen.store(over, ordering: .relaxed) }
                    await Task.yield()
                }
            }
            for thread in 0..<4 {
                group.addTask {
                    var random = SplitMix64(seed: UInt64(thread) + 100)
                    var held: [ServerClaim] = []
                    for _ in 0..<20_000 {
                        if random.next() % 2 == 0 {
                            let limits = random.next() % 2 == 0 ? [pool, database, host] : [pool, host]
                            if case .granted(let claim) = ServerClaim.take(limits) {
                                held.append(claim)
                                watch.grantedTotal.add(1, ordering: .relaxed)
                            }
                        } else if !held.isEmpty {
                            held.removeLast().giveBack()
                        }
                    }
                    for claim in held { claim.giveBack() }
                }
            }
            for _ in 0..<4 { await group.next() }
            watch.stop.store(true, ordering: .relaxed)
        }
        #expect(watch.worstSeen.load(ordering: .relaxed) <= 0)
        #expect(watch.grantedTotal.load(ordering: .relaxed) > 1_000)
        #expect(pool.used == 0 && database.used == 0 && host.used == 0)
    }
}

/// What the concurrency test's threads and watcher share.
private final class Watch: Sendable {
    let stop = Atomic<Bool>(false)
    let worstSeen = Atomic<Int>(0)
    let grantedTotal = Atomic<Int>(0)
}
