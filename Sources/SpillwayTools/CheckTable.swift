/// The budget table `spillway check` prints: one row per host, markdown-style with padded columns, so it reads
/// in a terminal and renders as a table where markdown does.
public struct CheckTable: Sendable {
    /// The hosts, one row each, in this order.
    public var rows: [CheckHostReport]

    public init(rows: [CheckHostReport]) {
        self.rows = rows
    }

    /// The column titles, in order.
    static let header = [
        "host", "databases", "max_connections", "reserved", "other backends", "budget",
        "worst-case Spillway servers", "headroom", "status",
    ]

    /// The cells of one host, in column order.
    static func cells(_ row: CheckHostReport) -> [String] {
        let server = row.serverBudget
        return [
            row.host.address,
            row.host.databases.map(\.name).joined(separator: ", "),
            server.map { "\($0.maxConnections)" } ?? "?",
            server.map { "\($0.superuserReserved + $0.reserved)" } ?? "?",
            row.otherBackends.map(String.init) ?? "?",
            "\(row.budget.map(String.init) ?? "?") (\(row.budgetSource.rawValue))",
            worstCase(row),
            row.headroom.map(String.init) ?? "?",
            status(row.status),
        ]
    }

    /// `205`, or `configured 400, held to 92` when the budget holds it back; `× 2 instances` when there are more.
    static func worstCase(_ row: CheckHostReport) -> String {
        let configured = row.worstCase.configured
        var text: String
        switch row.heldWorstCase {
        case nil: text = "configured \(configured)"
        case let held? where held < configured: text = "configured \(configured), held to \(held)"
        case let held?: text = "\(held)"
        }
        if row.instances > 1 {
            text += " × \(row.instances) instances"
        }
        return text
    }

    /// `ok`, `UNSAFE: 13 over`, `cannot verify: …`.
    static func status(_ status: CheckHostReport.Status) -> String {
        switch status {
        case .safe: "ok"
        case .unsafe(let over): "UNSAFE: \(over) over"
        case .cannotVerify(let reason): "cannot verify: \(reason)"
        }
    }

    /// The table: a header row, the separator, one row per host; every line ends with a newline.
    public func render() -> String {
        let lines = [Self.header] + rows.map { Self.cells($0).map(Self.escape) }
        let widths = Self.header.indices.map { column in max(3, lines.map { $0[column].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            let padded = zip(cells, widths).map { cell, width in
                cell + String(repeating: " ", count: width - cell.count)
            }
            return "| " + padded.joined(separator: " | ") + " |\n"
        }
        let separator = "| " + widths.map { String(repeating: "-", count: $0) }.joined(separator: " | ") + " |\n"
        return line(lines[0]) + separator + lines.dropFirst().map(line).joined()
    }

    /// A cell on one line, with `|` escaped so it stays in its column.
    static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "|", with: "\\|").split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
