/// What operators do to a pool from the admin console: PAUSE, RESUME, RECONNECT.
extension PoolStateMachine {
    /// PAUSE: lend no more servers. Servers in use finish their transactions and go idle; new requests queue.
    public mutating func pause() {
        runState = .paused
    }

    /// No server is lent out or being prepared for a client: a PAUSE is complete.
    public var isQuiescent: Bool {
        !servers.values.contains { server in
            switch server.state {
            case .active, .checking, .resetting: true
            case .idle, .connecting: false
            }
        }
    }

    /// RESUME: lend again. Idle servers go to the waiters, oldest first; servers are opened for the rest
    /// within the limits.
    public mutating func resume(now: ContinuousClock.Instant, capacity: Int) -> (handoffs: [HandoffAction], open: [OpenRequest]) {
        runState = .running
        var handoffs: [HandoffAction] = []
        while let first = waiters.waiting.first, let server = takeIdle(preferring: first.tag.loop),
            let waiter = waiters.popFirst()
        {
            handoffs.append(handOff(server, to: waiter.tag))
        }
        var open: [OpenRequest] = []
        var room = capacity
        while room > 0, let request = openIfUseful(loop: waiters.waiting.first?.tag.loop ?? 0, capacity: room, now: now) {
            open.append(request)
            room -= 1
        }
        return (handoffs, open)
    }

    /// RECONNECT: every server opened so far is replaced. Idle ones are returned to close now; the ones in use
    /// close when their client releases them.
    public mutating func reconnect() -> [ServerID] {
        generation += 1
        var closed: [ServerID] = []
        for loop in idleByLoop.indices {
            for id in idleByLoop[loop] where servers.removeValue(forKey: id) != nil { closed.append(id) }
            idleByLoop[loop].removeAll()
        }
        return closed
    }
}
