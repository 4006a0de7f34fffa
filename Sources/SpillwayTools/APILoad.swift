import NIOConcurrencyHelpers

/// The API of the incident: `clients` clients, each sending `rate` requests per second at a steady pace whether or
/// not earlier ones have answered (a slow database does not slow the callers down). A request opens a new session,
/// reads one random row and closes; it succeeds only if all of that ends within `timeout`.
struct APILoad: Sendable {
    /// How each request logs in (user drill_app; application_name `api` or none).
    var configuration: WireClient.Configuration
    var clients: Int
    var rate: Double
    var timeout: Duration
    var rows: Int
    var stats: NIOLockedValueBox<APIStats>

    /// Sends requests until `deadline`, then waits for those in flight (each ends within `timeout`).
    func run(until deadline: ContinuousClock.Instant) async {
        let interval = Duration.seconds(1 / max(rate, 0.001))
        let start = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            for client in 0..<clients {
                // Spread the clients over one interval so they do not all fire at once.
                let first = start + interval * (Double(client) / Double(max(clients, 1)))
                group.addTask { await self.send(from: first, every: interval, until: deadline) }
            }
        }
    }

    /// One client's requests, each in its own task.
    private func send(
        from first: ContinuousClock.Instant, every interval: Duration, until deadline: ContinuousClock.Instant
    ) async {
        await withDiscardingTaskGroup { group in
            var next = first
            while next < deadline {
                do {
                    try await Task.sleep(until: next, clock: .continuous)
                } catch {
                    return
                }
                group.addTask { await self.request() }
                next += interval
            }
        }
    }

    /// One request: connect, `SELECT` a random row, close.
    private func request() async {
        let start = ContinuousClock.now
        var configuration = self.configuration
        configuration.connectTimeout = timeout
        do {
            let client = try await WireClient.connect(configuration)
            let remaining = timeout - (ContinuousClock.now - start)
            do {
                guard remaining > .zero else { throw WireClientError.connectTimeout(timeout) }
                try await client.query(
                    "SELECT payload FROM drill_items WHERE id = \(Int.random(in: 1...max(rows, 1)))", timeout: remaining
                )
            } catch {
                await client.close()
                throw error
            }
            let elapsed = ContinuousClock.now - start
            await client.close()
            stats.withLockedValue { $0.recordSuccess(milliseconds: elapsed.inMilliseconds) }
        } catch {
            stats.withLockedValue { $0.recordFailure("\(error)") }
        }
    }
}
