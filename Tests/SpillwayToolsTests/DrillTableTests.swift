import Testing

@testable import SpillwayTools

@Suite struct DrillTableTests {
    /// One column per run in run order, one row per metric, every line padded to the same width.
    @Test func rendersRunsAsColumns() {
        var direct = DrillVerdictTests.run(.direct, .labelled, successes: 183, logins: 0)
        direct.api = APIStats()
        direct.api.recordSuccess(milliseconds: 4.44)
        direct.api.recordFailure("FATAL 53300: sorry, too many clients already")
        var spillway = DrillVerdictTests.run(.spillway, .labelled, successes: 1000, logins: 5)
        spillway.leaks = .rows(count: 3, applications: ["nightly-job"])
        let text = DrillTable(runs: [direct, spillway]).render()
        let lines = text.split(separator: "\n").map(String.init)

        #expect(lines.count == 2 + DrillTable.Metric.allCases.count)
        #expect(Set(lines.map(\.count)).count == 1, "columns are padded: \(text)")
        #expect(lines[0].hasPrefix("| metric "))
        #expect(lines[0].contains("| direct (labelled)"))
        #expect(
            lines[0].firstRange(of: "direct (labelled)")!.lowerBound
                < lines[0].firstRange(of: "spillway (labelled)")!.lowerBound)
        #expect(lines[1].allSatisfy { "|- ".contains($0) })
        func row(_ name: String) -> String { lines.first { $0.hasPrefix("| \(name) ") } ?? "" }
        #expect(row("API success").contains("50.00% (1/2)"))
        #expect(row("API success").contains("100.00% (1000/1000)"))
        #expect(row("API p50 latency").contains("4.4 ms"))
        #expect(row("first API error").contains("FATAL 53300: sorry, too many clients already"))
        #expect(row("admin login during leak").contains("no (0/5)"))
        #expect(row("admin login during leak").contains("yes (5/5)"))
        #expect(row("leaks reported by Spillway").contains("3 (nightly-job)"))
    }

    /// A `|` or a line break in an error message cannot break the table.
    @Test func escapesPipesAndNewlines() {
        #expect(DrillTable.escape("a | b\nc") == "a \\| b c")
    }

    /// Percentages round down, so 99.999 % never reads as 100 %; latencies keep one decimal.
    @Test func formatsNumbers() {
        #expect(DrillFormat.percent(99.999) == "99.99%")
        #expect(DrillFormat.percent(5.07) == "5.07%")
        #expect(DrillFormat.percent(0) == "0.00%")
        #expect(DrillFormat.milliseconds(3.14) == "3.1 ms")
        #expect(DrillFormat.milliseconds(1234.56) == "1234.6 ms")
    }
}
