import Testing

@testable import SpillwayTools

@Suite struct LatencySummaryTests {
    /// 1...100 ms: the nearest-rank median is 50 and the 99th percentile 99, both measured values.
    @Test func nearestRankOnOneToHundred() {
        let summary = LatencySummary(milliseconds: (1...100).map(Double.init).shuffled())
        #expect(summary.count == 100)
        #expect(summary.p50 == 50)
        #expect(summary.p99 == 99)
        #expect(summary.percentile(100) == 100)
        #expect(summary.percentile(0.5) == 1)
    }

    /// Ten values: p99 is the largest, since 99 % of ten values rounds up to all ten.
    @Test func smallSampleP99IsTheMaximum() {
        let summary = LatencySummary(milliseconds: [5, 1, 9, 3, 7, 2, 8, 4, 6, 10])
        #expect(summary.p50 == 5)
        #expect(summary.p99 == 10)
    }

    /// One value is every percentile; no values is none.
    @Test func singleAndEmpty() {
        #expect(LatencySummary(milliseconds: [42]).p50 == 42)
        #expect(LatencySummary(milliseconds: [42]).p99 == 42)
        #expect(LatencySummary(milliseconds: []).p50 == nil)
        #expect(LatencySummary(milliseconds: []).p99 == nil)
    }
}
