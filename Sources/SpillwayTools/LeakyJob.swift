import NIOConcurrencyHelpers

/// The nightly job of the incident: `workers` threads, each opening a new session per item, running `BEGIN`, a
/// `SELECT` and an `UPDATE` of its own row, and never committing or closing. Runs until its task is cancelled.
struct LeakyJob: Sendable {
    /// How each session logs in (user drill_app; application_name `nightly-job` or none).
    var configuration: WireClient.Configuration
    var workers: Int
    var itemInterval: Duration
    /// How long connect or one statement may take before the item counts as failed.
    var stepTimeout: Duration
    /// Rows in drill_items: item ids wrap around at this.
    var rows: Int
    var sessions: LeakedSessions
    var stats: NIOLockedValueBox<JobStats>

    /// Runs every worker until cancelled; sessions stay in `sessions`.
    func run() async {
        await withDiscardingTaskGroup { group in
            for worker in 0..<workers {
                group.addTask { await self.work(worker) }
            }
        }
    }

    /// One worker: an item every `itemInterval`, each on a row no other worker touches.
    private func work(_ worker: Int) async {
        let start = ContinuousClock.now
        var item = 0
        while !Task.isCancelled {
            let id = (worker + item * workers) % rows + 1
            await leak(id: id)
            item += 1
            try? await Task.sleep(until: start + itemInterval * item, clock: .continuous)
        }
    }

    /// Opens a session, starts a transaction that reads and updates row `id`, and leaves it open.
    private func leak(id: Int) async {
        guard !sessions.isFull else {
            stats.withLockedValue { $0.recordSkip() }
            return
        }
        var configuration = self.configuration
        configuration.connectTimeout = stepTimeout
        do {
            let client = try await WireClient.connect(configuration)
            do {
                try await client.query("BEGIN", timeout: stepTimeout)
                try await client.query("SELECT payload FROM drill_items WHERE id = \(id)", timeout: stepTimeout)
                try await client.query(
                    "UPDATE drill_items SET touched = touched + 1 WHERE id = \(id)", timeout: stepTimeout)
            } catch {
                await client.close()
                throw error
            }
            sessions.keep(client)
            stats.withLockedValue { $0.recordLeak() }
        } catch WireClientError.cancelled {
            return  // the run ended during this item
        } catch {
            guard !Task.isCancelled else { return }
            stats.withLockedValue { $0.recordFailure("\(error)") }
        }
    }
}
