import Foundation
import SpillwayTools
import Testing

/// `spillway drill` against its own throwaway cluster (not the one `scripts/test` starts), Spillway being the
/// built binary, which drops to the cluster's OS user when the suite runs as root.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct DrillTests {
    /// `spillway drill --duration 20`: directly, PostgreSQL runs out of slots and the API fails; through
    /// Spillway with default settings the API keeps ≥ 99.9 % success, an admin gets in during the leak, and
    /// Spillway names the leaking job.
    @Test func directRunsFailAndSpillwayKeepsTheAPIUp() async throws {
        var options = DrillOptions()
        options.duration = .seconds(20)
        options.spillwayExecutable = SpillwayProcess.binary
        let report = try await Drill(options: options).run()
        defer { try? FileManager.default.removeItem(atPath: report.workspace) }

        #expect(
            report.runs.map(\.label) == [
                "direct (labelled)", "spillway (labelled)", "direct (unlabelled)", "spillway (unlabelled)",
            ])
        let table = DrillTable(runs: report.runs).render()
        for run in report.runs where run.mode == .direct {
            // The incident: the leak takes every slot, so the API fails and the session count hits the ceiling.
            let success = try #require(run.api.successPercent, "\(run.label) sent no API request\n\(table)")
            #expect(success < 99, "\(run.label): the leak did not hurt the API\n\(table)")
            #expect(run.api.firstError != nil, "\(table)")
            #expect((run.peakBackends ?? 0) >= 70, "\(run.label): PostgreSQL never filled up\n\(table)")
            #expect(run.job.leaked > 0, "\(table)")
            #expect(run.leaks == nil)
        }
        for run in report.runs where run.mode == .spillway {
            #expect(run.shortfall == nil, "\(run.label): \(run.shortfall ?? "")\n\(table)")
            #expect(run.api.attempts > 0, "\(run.label) sent no API request\n\(table)")
            #expect(run.peakBackends != nil, "\(run.label): no backend sample\n\(table)")
            #expect(run.adminProbe.attempts > 0, "\(run.label): no admin login attempted after the warm-up\n\(table)")
            #expect(run.leaks != nil, "\(run.label): SHOW LEAKS was not asked\n\(table)")
            let log = try #require(run.spillwayLog)
            #expect(FileManager.default.fileExists(atPath: log), "\(run.label): no Spillway log at \(log)")
        }
        #expect(report.verdict.passed, "\(table)")
        let labelled = try #require(report.runs.first { $0.label == "spillway (labelled)" })
        guard case .rows(_, let applications)? = labelled.leaks else {
            Issue.record("SHOW LEAKS failed: \(String(describing: labelled.leaks))\n\(table)")
            return
        }
        #expect(applications.contains("nightly-job"), "SHOW LEAKS did not name the job\n\(table)")
        #expect(!applications.contains("api"), "SHOW LEAKS blamed the API\n\(table)")
        #expect(report.text.contains(table))
        #expect(
            !FileManager.default.fileExists(atPath: "\(report.workspace)/spillway-labelled/userlist.txt"),
            "the auth_file with the drill's passwords was left behind")
    }
}
