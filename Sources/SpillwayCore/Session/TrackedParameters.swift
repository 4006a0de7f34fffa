/// Session parameters that follow a client from server to server.
///
/// PostgreSQL reports these with ParameterStatus. A client's values come from its startup packet and from the
/// ParameterStatus its own statements cause; a server's values from the ParameterStatus it sent last. Before a
/// client's messages reach a server whose values differ, Spillway sets them, so no client ever runs with
/// another client's settings.
public struct TrackedParameters: Sendable, Equatable {
    /// Lower-cased names Spillway carries between servers, with PostgreSQL's spelling for SET.
    public static let names: [(key: String, spelling: String)] = [
        ("client_encoding", "client_encoding"),
        ("datestyle", "DateStyle"),
        ("timezone", "TimeZone"),
        ("intervalstyle", "IntervalStyle"),
        ("standard_conforming_strings", "standard_conforming_strings"),
        ("application_name", "application_name"),
    ]

    /// True for a name (any case) Spillway tracks.
    public static func isTracked(_ name: String) -> Bool {
        let lower = name.lowercased()
        return names.contains { $0.key == lower }
    }

    /// Values by lower-cased name.
    public private(set) var values: [String: String] = [:]

    public init() {}

    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { set(name, value) }
    }

    public subscript(name: String) -> String? { values[name.lowercased()] }

    /// Records a value if `name` is tracked; false otherwise.
    @discardableResult
    public mutating func set(_ name: String, _ value: String) -> Bool {
        let lower = name.lowercased()
        guard TrackedParameters.names.contains(where: { $0.key == lower }) else { return false }
        values[lower] = value
        return true
    }

    /// The statement that gives a server with `server`'s values this set's values; nil when nothing differs.
    /// Only names this set holds are compared: a client that never chose a value takes the server's.
    public func setStatement(toMatch server: TrackedParameters) -> String? {
        var parts: [String] = []
        for (key, spelling) in TrackedParameters.names {
            guard let wanted = values[key], server.values[key] != wanted else { continue }
            parts.append("SET \(spelling) = \(TrackedParameters.quoteLiteral(wanted))")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ") + ";"
    }

    /// A SQL string literal: single quotes doubled; E'' form when a backslash is present.
    public static func quoteLiteral(_ value: String) -> String {
        let doubled = value.replacingAll("'", with: "''")
        if value.contains("\\") { return "E'" + doubled.replacingAll("\\", with: "\\\\") + "'" }
        return "'" + doubled + "'"
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(count)
        for ch in self {
            if ch == target { out += replacement } else { out.append(ch) }
        }
        return out
    }
}
