/// Percentiles of a set of latencies, by the nearest-rank method: the p-th percentile is the smallest value with at
/// least p % of the values at or below it. Always one of the measured values, never interpolated.
public struct LatencySummary: Sendable, Equatable {
    /// Latencies in milliseconds, ascending.
    private let sorted: [Double]

    /// Sorts `milliseconds` once.
    public init(milliseconds: [Double]) {
        self.sorted = milliseconds.sorted()
    }

    /// How many latencies there are.
    public var count: Int { sorted.count }

    /// The `p`-th percentile (0 < p ≤ 100) in milliseconds; nil when there are no values.
    public func percentile(_ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The median, in milliseconds.
    public var p50: Double? { percentile(50) }

    /// The 99th percentile, in milliseconds.
    public var p99: Double? { percentile(99) }
}
