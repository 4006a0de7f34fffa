import SpillwayCore
import Testing

@testable import SpillwayTools

@Suite struct CheckVerdictTests {
    /// Every host with headroom: safe, exit 0.
    @Test func safeWhenEveryHostHasHeadroom() {
        let verdict = CheckVerdict(rows: [CheckHostReportTests.row(configured: 15)])
        #expect(verdict.safe)
        #expect(verdict.exitCode == 0)
        #expect(verdict.line.hasPrefix("SAFE: "))
    }

    /// One host over its budget makes the whole check unsafe, exit 1, and the line names the host.
    @Test func unsafeWhenAnyHostIsOver() {
        let verdict = CheckVerdict(rows: [
            CheckHostReportTests.row(configured: 15), CheckHostReportTests.row(configured: 205, explicitBudget: 1000),
        ])
        #expect(!verdict.safe)
        #expect(verdict.exitCode == 1)
        #expect(verdict.line
            == "UNSAFE: db:5432: the worst case needs 108 more connections than the server has for ordinary roles")
    }

    /// A host that cannot be verified counts as unsafe.
    @Test func unverifiableHostIsUnsafe() {
        var row = CheckHostReportTests.row(configured: 15)
        row.measurement = .failed("could not connect: Connection refused")
        let verdict = CheckVerdict(rows: [row])
        #expect(verdict.exitCode == 1)
        #expect(verdict.line == "UNSAFE: db:5432: cannot verify: could not connect: Connection refused")
    }

    /// Disabled bounds are listed as warnings and leave a safe verdict safe.
    @Test func disabledBoundsDoNotChangeTheVerdict() {
        let report = CheckReport(
            rows: [CheckHostReportTests.row(configured: 15)],
            disabledBounds: [CheckDisabledBound(setting: "query_wait_timeout", value: "0", exposes: "clients wait")],
            hasWildcard: false)
        #expect(report.exitCode == 0)
        #expect(report.text.contains("- query_wait_timeout = 0: clients wait\n"))
        #expect(report.text.contains("they do not change the verdict or the exit status"))
        #expect(report.text.hasSuffix("\n" + report.verdict.line + "\n"))
    }

    /// No named database: nothing to measure, said so, exit 0.
    @Test func nothingToCheckIsSaid() {
        let report = CheckReport(rows: [], disabledBounds: [], hasWildcard: true)
        #expect(report.exitCode == 0)
        #expect(report.text.contains("The * line is not counted"))
        #expect(report.text.contains("Disabled safety bounds: none."))
        #expect(report.verdict.line.contains("nothing to check"))
    }
}
