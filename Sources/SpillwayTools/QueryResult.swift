/// What one SQL statement of a simple query returned: column names, rows in text format and the command tag.
public struct QueryResult: Sendable, Equatable {
    /// Column names from RowDescription; empty for statements that return no rows.
    public var columns: [String]
    /// Values as text, one array per row; nil is SQL NULL.
    public var rows: [[String?]]
    /// The CommandComplete tag: `SELECT 1`, `UPDATE 1`, `BEGIN`, `SHOW`; empty for an empty query.
    public var tag: String

    public init(columns: [String] = [], rows: [[String?]] = [], tag: String) {
        self.columns = columns
        self.rows = rows
        self.tag = tag
    }

    /// The first row's first value: for `SELECT count(*)`, `SHOW max_connections`.
    public var scalar: String? {
        rows.first?.first ?? nil
    }

    /// The values of the column named `name` (case-insensitive), or nil when there is no such column.
    public func column(_ name: String) -> [String?]? {
        guard let index = columns.firstIndex(where: { $0.lowercased() == name.lowercased() }) else { return nil }
        return rows.map { index < $0.count ? $0[index] : nil }
    }
}
