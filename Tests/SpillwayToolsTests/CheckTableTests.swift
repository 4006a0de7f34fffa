import SpillwayCore
import Testing

@testable import SpillwayTools

@Suite struct CheckTableTests {
    /// One row per host under a header naming every column; every line padded to the same width.
    @Test func rendersOneRowPerHost() {
        let safe = CheckHostReportTests.row(configured: 400, backends: 4)
        var failed = CheckHostReportTests.row(configured: 30)
        failed.host = CheckHost(address: "10.0.0.6:5432", databases: [DatabaseConfig(name: "reports")])
        failed.measurement = .failed("could not connect: Connection refused")
        let text = CheckTable(rows: [safe, failed]).render()
        let lines = text.split(separator: "\n").map(String.init)

        #expect(lines.count == 4)
        #expect(Set(lines.map(\.count)).count == 1, "columns are padded: \(text)")
        for title in ["host", "max_connections", "reserved", "other backends", "worst-case Spillway servers",
                      "headroom"] {
            #expect(lines[0].contains("| \(title) "), "\(title) missing: \(lines[0])")
        }
        #expect(lines[1].allSatisfy { "|- ".contains($0) })
        #expect(lines[2].hasPrefix("| db:5432 "))
        #expect(lines[2].contains("| 100 "))
        #expect(lines[2].contains("| 92 (auto) "))
        #expect(lines[2].contains("| configured 400, held to 92 "))
        #expect(lines[2].contains("| 2 "))
        #expect(lines[2].contains("| ok "))
        #expect(lines[3].contains("| ? "))
        #expect(lines[3].contains("| ? (auto) "))
        #expect(lines[3].contains("| configured 30 "))
        #expect(lines[3].contains("cannot verify: could not connect: Connection refused"))
    }

    /// A worst case within the budget is one number; more instances are named; unsafe rows say by how much.
    @Test func formatsWorstCaseAndStatus() {
        let row = CheckHostReportTests.row(configured: 205, explicitBudget: 1000)
        #expect(CheckTable.worstCase(row) == "205")
        #expect(CheckTable.status(row.status) == "UNSAFE: 108 over")
        let shared = CheckHostReportTests.row(configured: 40, instances: 3)
        #expect(CheckTable.worstCase(shared) == "configured 40, held to 30 × 3 instances")
    }

    /// A `|` or a line break in an error cannot break the table.
    @Test func escapesPipesAndNewlines() {
        #expect(CheckTable.escape("a | b\nc") == "a \\| b c")
    }
}
