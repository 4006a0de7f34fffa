/// The numbers of one run: one mode (direct or through Spillway) of one variant.
public struct DrillRunResult: Sendable, Equatable, Encodable {
    /// Direct or through Spillway.
    public var mode: DrillMode
    /// Labelled or unlabelled.
    public var variant: DrillVariant
    /// The API's requests.
    public var api: APIStats
    /// The leaky job's sessions and failures.
    public var job: JobStats
    /// The on-call engineer's login attempts after the warm-up.
    public var adminProbe: ProbeStats
    /// The most client backends PostgreSQL had at once (sampled every second); nil when no sample worked.
    public var peakBackends: Int?
    /// What SHOW LEAKS said; nil for a direct run.
    public var leaks: LeakReport?
    /// Spillway's log file; nil for a direct run.
    public var spillwayLog: String?
    /// The last lines of Spillway's log, kept when a run through Spillway failed the verdict.
    public var logTail: [String]?

    public init(
        mode: DrillMode, variant: DrillVariant, api: APIStats, job: JobStats, adminProbe: ProbeStats,
        peakBackends: Int?, leaks: LeakReport? = nil, spillwayLog: String? = nil, logTail: [String]? = nil
    ) {
        self.mode = mode
        self.variant = variant
        self.api = api
        self.job = job
        self.adminProbe = adminProbe
        self.peakBackends = peakBackends
        self.leaks = leaks
        self.spillwayLog = spillwayLog
        self.logTail = logTail
    }

    /// `direct (labelled)`: the run's column title.
    public var label: String {
        "\(mode.rawValue) (\(variant.rawValue))"
    }

    /// What must hold through Spillway: the API kept 99.9 % success, an admin logged in during the leak. Nil when
    /// it holds, else why not.
    public var shortfall: String? {
        var reasons: [String] = []
        if !api.succeeded(atLeastTenthsOfPercent: 999) {
            let percent = api.successPercent.map { DrillFormat.percent($0) } ?? "no requests"
            reasons.append("API success \(percent) < 99.9%")
        }
        if !adminProbe.anySucceeded {
            reasons.append("no admin login during the leak")
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: ", ")
    }
}
