/// What Spillway's `SHOW LEAKS` said at the end of a run: how many leaks and from which applications, or the error
/// it answered with (before the command exists).
public enum LeakReport: Sendable, Equatable {
    /// The command answered `rows` rows naming these distinct application names (empty names left out).
    case rows(count: Int, applications: [String])
    /// The command failed with this text.
    case failed(String)

    /// Reads a SHOW LEAKS answer: rows counted, application names from the `application` column.
    public init(_ result: QueryResult) {
        let names = result.column("application") ?? result.column("application_name") ?? []
        var distinct: [String] = []
        for case let name? in names where !name.isEmpty && !distinct.contains(name) {
            distinct.append(name)
        }
        self = .rows(count: result.rows.count, applications: distinct)
    }
}

extension LeakReport: Encodable {
    private enum CodingKeys: String, CodingKey {
        case rows, applications, error
    }

    /// `{"rows": 3, "applications": ["nightly-job"]}` or `{"error": "..."}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .rows(let count, let applications):
            try container.encode(count, forKey: .rows)
            try container.encode(applications, forKey: .applications)
        case .failed(let error):
            try container.encode(error, forKey: .error)
        }
    }
}
