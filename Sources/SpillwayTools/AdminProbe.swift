/// The on-call engineer trying to log in to look: every `interval`, log in and run one query (`SELECT 1` on
/// PostgreSQL, `SHOW POOLS` on Spillway's admin console). Attempts in the warm-up, before the leak has built up,
/// are not counted.
struct AdminProbe: Sendable {
    /// How the engineer logs in (user drill_oncall).
    var configuration: WireClient.Configuration
    /// The query to run once logged in.
    var query: String
    var interval: Duration
    /// Login plus query must end within this.
    var timeout: Duration
    var warmUp: Duration

    /// Attempts from `start` until `deadline`; returns those after the warm-up.
    func run(from start: ContinuousClock.Instant, until deadline: ContinuousClock.Instant) async -> ProbeStats {
        var stats = ProbeStats()
        var next = start
        while next < deadline, !Task.isCancelled {
            try? await Task.sleep(until: next, clock: .continuous)
            let counted = ContinuousClock.now - start >= warmUp
            let outcome = await attempt()
            if counted {
                switch outcome {
                case nil: stats.recordSuccess()
                case let error?: stats.recordFailure(error)
                }
            }
            next += interval
        }
        return stats
    }

    /// One login and query; nil when both worked, else the error text.
    private func attempt() async -> String? {
        let start = ContinuousClock.now
        var configuration = self.configuration
        configuration.connectTimeout = timeout
        let client: WireClient
        do {
            client = try await WireClient.connect(configuration)
        } catch {
            return "\(error)"
        }
        var failure: String?
        let remaining = timeout - (ContinuousClock.now - start)
        do {
            guard remaining > .zero else { throw WireClientError.connectTimeout(timeout) }
            try await client.query(query, timeout: remaining)
        } catch {
            failure = "\(error)"
        }
        await client.close()
        return failure
    }
}
