/// Everything `spillway drill` found: where it ran, the workload, each run's numbers and the verdict.
public struct DrillReport: Sendable, Encodable {
    /// The PostgreSQL server the drill ran against, with its connection budget.
    public var server: String
    /// The workload of every run, in one line.
    public var workload: String
    /// Spillway's settings in the runs through it.
    public var spillwaySettings: String
    /// The folder with Spillway's configuration and logs; it stays after the drill.
    public var workspace: String
    /// The runs, in the order they ran.
    public var runs: [DrillRunResult]
    /// Whether Spillway contained the incident.
    public var verdict: DrillVerdict

    public init(
        server: String, workload: String, spillwaySettings: String, workspace: String, runs: [DrillRunResult]
    ) {
        self.server = server
        self.workspace = workspace
        self.workload = workload
        self.spillwaySettings = spillwaySettings
        self.runs = runs
        self.verdict = DrillVerdict(runs: runs)
    }

    /// What the drill prints on stdout: the setting, the table, Spillway's logs (with their last lines where a run
    /// fell short) and the verdict line.
    public var text: String {
        var text = """
            server:   \(server)
            workload: \(workload)
            Spillway: \(spillwaySettings)


            """
        text += DrillTable(runs: runs).render()
        for run in runs {
            guard let log = run.spillwayLog else { continue }
            text += "\n\(run.label) log: \(log)\n"
            for line in run.logTail ?? [] {
                text += "    \(line)\n"
            }
        }
        text += "\n\(verdict.line)\n"
        return text
    }

    /// The workload line for `options`.
    static func workload(_ options: DrillOptions) -> String {
        "\(options.leakers) leaky workers (a new session each every \(options.itemInterval.formattedSeconds), "
            + "BEGIN; SELECT; UPDATE; never closed), "
            + "\(options.apiClients) API clients × \(options.apiRate.formatted)/s "
            + "(success within \(options.apiTimeout.formattedSeconds)), \(options.duration.formattedSeconds) per run"
    }
}

extension Double {
    /// `10` for 10.0, `2.5` otherwise.
    fileprivate var formatted: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
