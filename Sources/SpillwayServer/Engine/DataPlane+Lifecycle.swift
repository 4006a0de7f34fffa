import Logging
import SpillwayCore

/// Stopping the engine data plane (drain, shutdown, SIGUSR1/SIGUSR2, SIGHUP) as the command drives it.
extension DataPlane: Pooler {
    public var hasStopped: Bool { lifecycle.withLock { $0.stoppedFromConsole } }

    public func drain(timeout: Duration?) async {
        logger.info("draining", metadata: ["timeout_s": "\(timeout.map { "\($0.components.seconds)" } ?? "none")"])
        stopListening()
        pause(database: nil)
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while await !quiescent(database: nil) {
            if let deadline, ContinuousClock.now >= deadline {
                logger.warning("shutdown_timeout reached with transactions still running; closing them")
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        shutdown()
    }

    public func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lifecycle.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    /// SIGUSR1: like the console's PAUSE for every database; the servers close once all are back.
    public func pause() {
        pause(database: nil)
        Task {
            while await !quiescent(database: nil) { try? await Task.sleep(for: .milliseconds(20)) }
            reconnect(database: nil)
        }
    }

    /// SIGUSR2: like the console's RESUME.
    public func resume() {
        resume(database: nil)
    }

    @discardableResult
    public func reload() -> Result<Void, ConfigError> {
        reloadFiles()
    }

    /// The console's SHUTDOWN: drains (or closes at once) and marks the process stopped from inside.
    func installConsoleShutdown() {
        shutdownRequest.withLock { request in
            request = { [weak self] drain in
                guard let self else { return }
                Task {
                    self.lifecycle.withLock { $0.stoppedFromConsole = true }
                    if drain { await self.drain(timeout: nil) } else { self.shutdown() }
                }
            }
        }
    }

    private func quiescent(database: String?) async -> Bool {
        await withCheckedContinuation { continuation in
            isQuiescent(database: database) { continuation.resume(returning: $0) }
        }
    }
}
