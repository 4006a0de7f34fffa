import CoreMetrics
import SpillwayCore

/// One pool on one loop: the shard machine and the server drivers it names. Loop-confined.
final class PoolSite {
    var shard: PoolShard
    var servers: [ServerID: ServerDriver] = [:]
    let info: PoolInfo
    /// This loop's share of the pool's statistics (SHOW STATS sums the loops'); the plane closes the periods.
    var stats = PoolStats()
    /// The pool's wait-time histogram, when metrics are on.
    var waitTimer: CoreMetrics.Timer?

    init(shard: PoolShard, info: PoolInfo) {
        self.shard = shard
        self.info = info
    }
}
