import Testing

@testable import SpillwayTools

@Suite struct APIStatsTests {
    /// Stats with `successes` successes of 1 ms and `failures` failures.
    static func stats(successes: Int, failures: Int) -> APIStats {
        var stats = APIStats()
        for _ in 0..<successes { stats.recordSuccess(milliseconds: 1) }
        for index in 0..<failures { stats.recordFailure("error \(index)") }
        return stats
    }

    /// 999 of 1000 is exactly 99.9 %: it meets the target; 998 of 1000 does not.
    @Test func targetIsComparedExactly() {
        #expect(Self.stats(successes: 999, failures: 1).succeeded(atLeastTenthsOfPercent: 999))
        #expect(!Self.stats(successes: 998, failures: 2).succeeded(atLeastTenthsOfPercent: 999))
        #expect(Self.stats(successes: 10, failures: 0).succeeded(atLeastTenthsOfPercent: 999))
    }

    /// No requests at all is no success rate, and never meets a target.
    @Test func nothingSentMeetsNothing() {
        let stats = APIStats()
        #expect(stats.successPercent == nil)
        #expect(!stats.succeeded(atLeastTenthsOfPercent: 0))
    }

    /// Counts, percentage and the first error (not the last) are kept; only successes have latencies.
    @Test func countsAndFirstError() {
        let stats = Self.stats(successes: 3, failures: 1)
        #expect(stats.attempts == 4)
        #expect(stats.failures == 1)
        #expect(stats.successPercent == 75)
        #expect(stats.firstError == "error 0")
        #expect(stats.latency.count == 3)
        var more = stats
        more.recordFailure("later")
        #expect(more.firstError == "error 0")
    }

    /// Job and probe tallies keep their first error too; a probe with no attempt is neither any nor all.
    @Test func jobAndProbeTallies() {
        var job = JobStats()
        job.recordLeak()
        job.recordFailure("first")
        job.recordFailure("second")
        #expect(job.leaked == 1 && job.failures == 2 && job.firstError == "first")
        var probe = ProbeStats()
        #expect(!probe.anySucceeded && !probe.allSucceeded)
        probe.recordFailure("refused")
        probe.recordSuccess()
        #expect(probe.anySucceeded && !probe.allSucceeded && probe.firstError == "refused")
    }
}
