/// Keeping a client and its server on one event loop (a transaction whose two sides sit on different loops
/// crosses threads twice and costs about as much CPU again), and the capacity questions the executor asks so
/// that it works the capacity out only when a server may open.
extension PoolStateMachine {
    /// The waiter a server released on `loop` goes to. With several loops and one application waiting, one
    /// on the same loop, or one on another loop that waited `loopAffinityWindow`; otherwise the fair-share choice.
    mutating func nextWaiter(for loop: Int, now: ContinuousClock.Instant, anyLoop: Bool) -> WaitQueue.Entry? {
        let policy = waiterPolicy()
        if policy == nil, idleByLoop.count > 1, !anyLoop {
            return waiters.popOnLoop(loop, within: limits.loopAffinityWindow, now: now)
        }
        return waiters.popNext(preferring: loop, within: limits.loopAffinityWindow, policy: policy, now: now)
    }

    /// True when a server sits idle while clients wait: they wait on other loops for less than
    /// `loopAffinityWindow`, and `serveAcrossLoops` must run once that has passed.
    public var hasIdleWhileWaiting: Bool {
        runState == .running && !waiters.isEmpty && idleCount > 0
    }

    /// After `serveAcrossLoops`: how long until it is worth running again (the oldest waiter is still younger
    /// than `loopAffinityWindow` while a server sits idle); nil when it is not (waiters left are held by caps).
    public func acrossLoopsRetry(now: ContinuousClock.Instant) -> Duration? {
        guard hasIdleWhileWaiting, let first = waiters.waiting.first else { return nil }
        let left = limits.loopAffinityWindow - (now - first.since)
        return left > .zero ? left : nil
    }

    /// Hands idle servers to waiters on other loops that waited `loopAffinityWindow` or longer (the executor
    /// calls this after that delay whenever `hasIdleWhileWaiting` became true).
    public mutating func serveAcrossLoops(now: ContinuousClock.Instant) -> [HandoffAction] {
        var actions: [HandoffAction] = []
        while runState == .running, idleCount > 0, let first = waiters.waiting.first,
              now - first.since >= limits.loopAffinityWindow,
              let waiter = waiters.popNext(preferring: first.tag.loop, within: .zero, policy: waiterPolicy(), now: now),
              let server = takeIdle(preferring: waiter.tag.loop)
        {
            switch use(server, for: waiter.tag, now: now) {
            case .assign(let id): actions.append(.assign(id, to: waiter.tag))
            case .check(let id, let tag): actions.append(.check(id, for: tag))
            }
        }
        return actions
    }

    /// True when `acquire` will not look at its `capacity` (an idle server serves the client, or the pool is
    /// paused): the caller can skip working it out, which walks every pool of the host.
    public var acquireIgnoresCapacity: Bool {
        runState == .paused || (limits.applications.isEmpty && idleCount > 0)
    }

    /// True when `release` of server `id` may open a replacement and so needs its `capacity`: only when the
    /// server is closed rather than reused.
    public func releaseNeedsCapacity(_ id: ServerID, reusable: Bool, now: ContinuousClock.Instant) -> Bool {
        guard let server = servers[id] else { return false }
        return !reusable || isPastLifetime(server, now: now) || server.generation < generation
    }

    /// The event loop a new server opens on: the one asking, unless it already has its share of the pool
    /// (pool_size split evenly over the loops, as clients are), then the loop with the fewest servers. Servers
    /// spread like clients let nearly every handover stay on one loop.
    func placement(wanted loop: Int) -> Int {
        let loops = idleByLoop.count
        guard loops > 1 else { return 0 }
        var counts = [Int](repeating: 0, count: loops)
        for server in servers.values { counts[server.loop] += 1 }
        let share = (limits.poolSize + loops - 1) / loops
        if counts[loop] < share { return loop }
        return counts.indices.min { counts[$0] < counts[$1] } ?? loop
    }
}
