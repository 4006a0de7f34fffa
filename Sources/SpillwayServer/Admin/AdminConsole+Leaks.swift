import PostgresWire
import SpillwayCore

/// Spillway's own console commands: SHOW LEAKS (current suspects) and SHOW APPLICATIONS (per application).
extension AdminConsole {
    static let leakColumns: [ResultSet.Column] = [
        .text("kind"), .text("application"), .text("user"), .text("database"), .text("addr"), .int4("port"),
        .text("client"), .numeric("connected_s"), .numeric("in_transaction_s"), .numeric("idle_s"),
        .text("last_statement"),
    ]

    static let applicationColumns: [ResultSet.Column] = [
        .text("application"), .int4("cl_active"), .int4("cl_idle"), .int4("cl_waiting"), .int4("sv_held"),
        .int4("maxwait"), .int4("maxwait_us"), .int4("leaks_suspected"), .int8("leaks_total"),
        .int4("max_client_connections"), .int4("max_server_connections"), .numeric("weight"),
    ]

    /// SHOW APPLICATIONS: per application, its clients by state, servers held, longest wait and leaks.
    func applications(_ view: ConsoleView) -> ResultSet {
        let rows = view.applications.map { report -> [String?] in
            let policy = runtime.applicationPolicies[report.application]
            let wait = report.maxWait ?? .zero
            return [
                report.application, "\(report.active)", "\(report.idle)", "\(report.waiting)", "\(report.held)",
                "\(wait.components.seconds)", "\(wait.components.attoseconds / 1_000_000_000_000)",
                "\(report.suspected)", "\(report.leaksTotal)",
                policy?.maxClientConnections.map { "\($0)" }, policy?.maxServerConnections.map { "\($0)" },
                "\(policy?.weight ?? 1)",
            ]
        }
        return ResultSet(columns: Self.applicationColumns, rows: rows)
    }
}
