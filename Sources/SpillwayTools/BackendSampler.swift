/// Counts PostgreSQL's client backends every second over one superuser session opened before the run (a
/// superuser keeps a reserved slot when the others are gone) and keeps the peak.
struct BackendSampler: Sendable {
    /// The superuser session; reused for every sample.
    var monitor: WireClient

    static let countQuery = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"

    /// Samples until `deadline`; the highest count seen, or nil when no sample worked.
    func run(until deadline: ContinuousClock.Instant) async -> Int? {
        var peak: Int?
        var next = ContinuousClock.now
        while next < deadline, !Task.isCancelled {
            if let count = try? await monitor.query(Self.countQuery, timeout: .seconds(5)).scalar.flatMap({ Int($0) }) {
                peak = max(peak ?? 0, count)
            }
            next += .seconds(1)
            try? await Task.sleep(until: next, clock: .continuous)
        }
        return peak
    }
}
