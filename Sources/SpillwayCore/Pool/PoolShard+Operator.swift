/// What operators do to a pool from the admin console — PAUSE, RESUME, RECONNECT — applied to every shard.
extension PoolShard {
    /// PAUSE: lend no more servers. Servers in use finish their transactions and go idle; new requests queue.
    public mutating func pause() {
        runState = .paused
    }

    /// No server here is lent out or being prepared for a client: this shard's part of a PAUSE is complete.
    public var isQuiescent: Bool {
        !servers.values.contains { server in
            switch server.state {
            case .active, .checking, .resetting: true
            case .idle, .connecting: false
            }
        }
    }

    /// RESUME: lend again. Idle servers go to the waiters, oldest first; servers are opened for the rest within
    /// the bounds.
    public mutating func resume(now: ContinuousClock.Instant) -> (handoffs: [HandoffAction], open: [ServerID]) {
        runState = .running
        var handoffs: [HandoffAction] = []
        while !waiters.isEmpty, let server = takeIdle(), let waiter = waiters.popFirst() {
            if let index = servers.index(forKey: server) { lend(at: index, to: waiter.tag) }
            handoffs.append(.assign(server, to: waiter.tag))
        }
        publishWaiters()
        var open: [ServerID] = []
        while let id = openIfUseful(now: now) { open.append(id) }
        return (handoffs, open)
    }

    /// RECONNECT: every server opened so far is replaced. Idle ones are returned to close now; the ones in use
    /// close when their client releases them. Every shard gets the same call.
    public mutating func reconnect() -> [ServerID] {
        generation += 1
        let closing = idle
        for id in closing { forget(id) }
        return closing
    }
}
