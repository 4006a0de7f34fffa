/// Whether Spillway contained the incident: every run through Spillway kept the API at ≥ 99.9 % success and let
/// the on-call engineer log in during the leak. Direct runs are the baseline and do not count.
public struct DrillVerdict: Sendable, Equatable, Encodable {
    /// True when there was at least one run through Spillway and every one held.
    public var passed: Bool
    /// One line per run through Spillway that fell short, or why nothing was judged.
    public var reasons: [String]

    /// Judges `runs`.
    public init(runs: [DrillRunResult]) {
        let throughSpillway = runs.filter { $0.mode == .spillway }
        guard !throughSpillway.isEmpty else {
            self.passed = false
            self.reasons = ["no run through Spillway: nothing to judge"]
            return
        }
        self.reasons = throughSpillway.compactMap { run in run.shortfall.map { "\(run.label): \($0)" } }
        self.passed = reasons.isEmpty
    }

    /// `PASS: ...` or `FAIL: ...`, one line.
    public var line: String {
        if passed {
            return "PASS: through Spillway the API kept ≥ 99.9% success and an admin could log in during the leak"
        }
        return "FAIL: " + reasons.joined(separator: "; ")
    }
}
