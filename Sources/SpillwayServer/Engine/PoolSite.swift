import SpillwayCore

/// One pool on one loop: the shard machine and the server drivers it names. Loop-confined.
final class PoolSite {
    var shard: PoolShard
    var servers: [ServerID: ServerDriver] = [:]
    let info: PoolInfo

    init(shard: PoolShard, info: PoolInfo) {
        self.shard = shard
        self.info = info
    }
}
