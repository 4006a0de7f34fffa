import Testing

@testable import SpillwayTools

@Suite struct DrillVerdictTests {
    /// A run with `successes` of 1000 API requests and `logins` of 5 admin logins.
    static func run(_ mode: DrillMode, _ variant: DrillVariant, successes: Int, logins: Int) -> DrillRunResult {
        var probe = ProbeStats()
        for index in 0..<5 {
            if index < logins { probe.recordSuccess() } else { probe.recordFailure("FATAL 53300: too many") }
        }
        return DrillRunResult(
            mode: mode, variant: variant, api: APIStatsTests.stats(successes: successes, failures: 1000 - successes),
            job: JobStats(), adminProbe: probe, peakBackends: 85)
    }

    /// Both Spillway runs at 99.9 % with an admin login pass, however badly the direct runs did.
    @Test func passesWhenEverySpillwayRunHolds() {
        let verdict = DrillVerdict(runs: [
            Self.run(.direct, .labelled, successes: 120, logins: 0),
            Self.run(.spillway, .labelled, successes: 1000, logins: 5),
            Self.run(.direct, .unlabelled, successes: 100, logins: 0),
            Self.run(.spillway, .unlabelled, successes: 999, logins: 1),
        ])
        #expect(verdict.passed)
        #expect(verdict.reasons.isEmpty)
        #expect(verdict.line.hasPrefix("PASS"))
    }

    /// One Spillway run short on API success and another without an admin login: fails, naming both.
    @Test func failsNamingEachShortRun() {
        let verdict = DrillVerdict(runs: [
            Self.run(.spillway, .labelled, successes: 998, logins: 5),
            Self.run(.spillway, .unlabelled, successes: 1000, logins: 0),
        ])
        #expect(!verdict.passed)
        #expect(
            verdict.reasons == [
                "spillway (labelled): API success 99.80% < 99.9%",
                "spillway (unlabelled): no admin login during the leak",
            ])
        #expect(verdict.line.hasPrefix("FAIL: spillway (labelled)"))
    }

    /// Only direct runs (`--only direct`): nothing shows Spillway held, so the verdict is not a pass.
    @Test func directOnlyIsNotAPass() {
        let verdict = DrillVerdict(runs: [Self.run(.direct, .labelled, successes: 1000, logins: 5)])
        #expect(!verdict.passed)
        #expect(verdict.reasons == ["no run through Spillway: nothing to judge"])
    }
}
