/// The API's requests in one run: how many were sent, how many succeeded in time and how fast, the first error.
public struct APIStats: Sendable, Equatable {
    /// Requests sent (each ends as a success or a failure before the run's numbers are read).
    public private(set) var attempts = 0
    /// Requests that connected, answered and closed within the API timeout.
    public private(set) var successes = 0
    /// Latency of every success, in milliseconds.
    public private(set) var latenciesMs: [Double] = []
    /// The first failure's text: SQLSTATE and message, or what timed out.
    public private(set) var firstError: String?

    public init() {}

    /// A request succeeded in `milliseconds`.
    public mutating func recordSuccess(milliseconds: Double) {
        attempts += 1
        successes += 1
        latenciesMs.append(milliseconds)
    }

    /// A request failed with `error`.
    public mutating func recordFailure(_ error: String) {
        attempts += 1
        if firstError == nil {
            firstError = error
        }
    }

    /// Requests that failed.
    public var failures: Int { attempts - successes }

    /// Successes as a percentage of attempts; nil when nothing was sent.
    public var successPercent: Double? {
        attempts == 0 ? nil : Double(successes) * 100 / Double(attempts)
    }

    /// True when at least `tenthsOfPercent` / 10 % of the requests succeeded (999 = 99.9 %), compared in integers so
    /// 999 of 1000 passes exactly. False when nothing was sent.
    public func succeeded(atLeastTenthsOfPercent tenthsOfPercent: Int) -> Bool {
        attempts > 0 && successes * 1000 >= attempts * tenthsOfPercent
    }

    /// Percentiles of the successes' latencies.
    public var latency: LatencySummary {
        LatencySummary(milliseconds: latenciesMs)
    }
}

extension APIStats: Encodable {
    private enum CodingKeys: String, CodingKey {
        case attempts, successes, successPercent, p50Ms, p99Ms, firstError
    }

    /// The summary, not every latency: attempts, successes, successPercent, p50Ms, p99Ms, firstError.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(successes, forKey: .successes)
        try container.encodeIfPresent(successPercent, forKey: .successPercent)
        let latency = self.latency
        try container.encodeIfPresent(latency.p50, forKey: .p50Ms)
        try container.encodeIfPresent(latency.p99, forKey: .p99Ms)
        try container.encodeIfPresent(firstError, forKey: .firstError)
    }
}
