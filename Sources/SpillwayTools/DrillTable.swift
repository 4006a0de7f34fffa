import Foundation

/// The side-by-side table `spillway drill` prints: one row per metric, one column per run, markdown-style with
/// padded columns so it reads in a terminal and renders as a table where markdown does.
public struct DrillTable: Sendable {
    /// The runs, one column each, in this order.
    public var runs: [DrillRunResult]

    public init(runs: [DrillRunResult]) {
        self.runs = runs
    }

    /// The rows, in order.
    enum Metric: CaseIterable {
        case apiSuccess, apiP50, apiP99, apiFirstError, peakBackends, adminLogin, adminFirstError, leaks
        case jobLeaked, jobFailures, jobFirstError

        /// The row's title.
        var name: String {
            switch self {
            case .apiSuccess: "API success"
            case .apiP50: "API p50 latency"
            case .apiP99: "API p99 latency"
            case .apiFirstError: "first API error"
            case .peakBackends: "peak database backends"
            case .adminLogin: "admin login during leak"
            case .adminFirstError: "first admin error"
            case .leaks: "leaks reported by Spillway"
            case .jobLeaked: "job sessions leaked"
            case .jobFailures: "job failures"
            case .jobFirstError: "first job error"
            }
        }

        /// The cell of `run` in this row.
        func cell(_ run: DrillRunResult) -> String {
            switch self {
            case .apiSuccess:
                guard let percent = run.api.successPercent else { return "n/a (no requests)" }
                return "\(DrillFormat.percent(percent)) (\(run.api.successes)/\(run.api.attempts))"
            case .apiP50:
                return run.api.latency.p50.map(DrillFormat.milliseconds) ?? "n/a"
            case .apiP99:
                return run.api.latency.p99.map(DrillFormat.milliseconds) ?? "n/a"
            case .apiFirstError:
                return run.api.firstError ?? "none"
            case .peakBackends:
                return run.peakBackends.map(String.init) ?? "n/a"
            case .adminLogin:
                let probe = run.adminProbe
                guard probe.attempts > 0 else { return "n/a (no attempt after warm-up)" }
                let word = probe.allSucceeded ? "yes" : probe.anySucceeded ? "partly" : "no"
                return "\(word) (\(probe.successes)/\(probe.attempts))"
            case .adminFirstError:
                return run.adminProbe.firstError ?? "none"
            case .leaks:
                switch run.leaks {
                case nil:
                    return "-"
                case .rows(let count, let applications):
                    return applications.isEmpty ? "\(count)" : "\(count) (\(applications.joined(separator: ", ")))"
                case .failed(let error):
                    return "error: \(error)"
                }
            case .jobLeaked:
                let skipped = run.job.skipped
                return skipped > 0 ? "\(run.job.leaked) (cap reached, \(skipped) skipped)" : "\(run.job.leaked)"
            case .jobFailures:
                return "\(run.job.failures)"
            case .jobFirstError:
                return run.job.firstError ?? "none"
            }
        }
    }

    /// The table: a header row, the separator, one row per metric; every line ends with a newline.
    public func render() -> String {
        var lines: [[String]] = [["metric"] + runs.map(\.label)]
        for metric in Metric.allCases {
            lines.append([metric.name] + runs.map { Self.escape(metric.cell($0)) })
        }
        let widths = (0..<lines[0].count).map { column in max(3, lines.map { $0[column].count }.max() ?? 0) }
        func row(_ cells: [String]) -> String {
            let padded = zip(cells, widths).map { cell, width in
                cell + String(repeating: " ", count: width - cell.count)
            }
            return "| " + padded.joined(separator: " | ") + " |\n"
        }
        let separator = "| " + widths.map { String(repeating: "-", count: $0) }.joined(separator: " | ") + " |\n"
        return row(lines[0]) + separator + lines.dropFirst().map(row).joined()
    }

    /// A cell on one line, with `|` escaped so it stays in its column.
    static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "|", with: "\\|").split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
