import NIOCore
import SpillwayCore

/// Handing a chosen server to its client: attach on the server's loop, tell the client on its own; and the
/// timer that hands idle servers to clients on other loops once they have waited loopAffinityWindow.
extension PoolExecutor {
    /// A server chosen for a client, with what handing it over needs (looked up under the lock that chose it).
    struct Delivery {
        var server: ServerConnection?
        var client: ClientConnection?
        var wanted: TrackedParameters?
    }

    /// Hands server `id` to client: attach on the server's loop, then tell the client on its loop.
    func deliver(_ id: ServerID, to clientID: ClientID) {
        let delivery = state.withLockedValue {
            Delivery(server: $0.servers[id], client: $0.clients[clientID], wanted: $0.wanted.removeValue(forKey: clientID))
        }
        deliver(delivery)
    }

    func deliver(_ delivery: Delivery) {
        let (server, client, wanted) = (delivery.server, delivery.client, delivery.wanted)
        guard let server else {
            // Lost between assignment and now: the client must not wait for a server that will not come.
            client?.onLoop { client?.acquireFailed(ServerFailure(message: "server connection was lost before use")) }
            return
        }
        guard let client else {
            // The client left after it was chosen: the server goes straight back.
            release(server, from: nil, statements: [])
            return
        }
        let wantsReported = client.needsServerParameters
        if server.loop.inEventLoop {
            attach(server, to: client, wanted: wanted ?? TrackedParameters(), wantsReported: wantsReported)
        } else {
            server.loop.execute {
                self.attach(server, to: client, wanted: wanted ?? TrackedParameters(), wantsReported: wantsReported)
            }
        }
    }

    /// On the server's loop: attaches and tells the client. A client on the same loop whose parameters match is
    /// told at once, without callbacks; otherwise the client hears on its own loop once the server is ready.
    func attach(_ server: ServerConnection, to client: ClientConnection, wanted: TrackedParameters,
                        wantsReported: Bool) {
        if client.loop === server.loop,
           let info = server.attachDirectly(client, wanted: wanted, wantsReported: wantsReported) {
            client.serverAttached(server, result: .success(info))
            return
        }
        server.attach(client, wanted: wanted, wantsReported: wantsReported) { result in
            client.onLoop { client.serverAttached(server, result: result) }
        }
    }

    // MARK: Across loops

    /// Under the lock, after a server went idle: the delay after which `serveAcrossLoops` must run, when a
    /// server now sits idle while clients wait on other loops and no run is scheduled yet.
    static func needsAcrossLoopsRun(_ key: PoolKey, state: inout State) -> Duration? {
        state.withPool(key) { entry -> Duration? in
            guard !entry.acrossLoopsPending, entry.machine.hasIdleWhileWaiting else { return nil }
            entry.acrossLoopsPending = true
            return entry.machine.limits.loopAffinityWindow
        } ?? nil
    }

    func scheduleAcrossLoops(_ key: PoolKey, after delay: Duration, on loop: EventLoop) {
        let (seconds, attoseconds) = delay.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        loop.scheduleTask(in: .nanoseconds(max(nanoseconds, 0))) { self.serveAcrossLoops(key, loop: loop) }
    }

    /// Idle servers go to clients that waited on other loops for loopAffinityWindow.
    func serveAcrossLoops(_ key: PoolKey, loop: EventLoop) {
        let now = ContinuousClock.now
        let (actions, again) = state.withLockedValue { state -> ([PoolStateMachine.HandoffAction], Duration?) in
            state.withPool(key) { entry -> ([PoolStateMachine.HandoffAction], Duration?) in
                let actions = entry.machine.serveAcrossLoops(now: now)
                let retry = entry.machine.acrossLoopsRetry(now: now)
                entry.acrossLoopsPending = retry != nil
                return (actions, retry)
            } ?? ([], nil)
        }
        for action in actions { run(action, key: key, work: nil) }
        if let again { scheduleAcrossLoops(key, after: again, on: loop) }
    }
}
