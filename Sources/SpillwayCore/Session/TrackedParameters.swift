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
        slot(of: name) != nil
    }

    /// The position of a tracked name (any case) in `names`.
    static func slot(of name: String) -> Int? {
        let lower = name.lowercased()
        return names.firstIndex { $0.key == lower }
    }

    /// Values in the order of `names`: compared slot by slot on every attach, with no hashing (a client's values
    /// usually share storage with the server's, which makes the comparison a pointer check).
    private var slots = InlineArray<6, String?>(repeating: nil)

    /// Values by lower-cased name.
    public var values: [String: String] {
        var values: [String: String] = [:]
        for index in 0..<Self.names.count {
            if let value = slots[index] { values[Self.names[index].key] = value }
        }
        return values
    }

    public init() {}

    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { set(name, value) }
    }

    public subscript(name: String) -> String? {
        guard let index = Self.slot(of: name) else { return nil }
        return slots[index]
    }

    /// Records a value if `name` is tracked; false otherwise.
    @discardableResult
    public mutating func set(_ name: String, _ value: String) -> Bool {
        guard let index = Self.slot(of: name) else { return false }
        slots[index] = value
        return true
    }

    /// The statement that gives a server with `server`'s values this set's values; nil when nothing differs.
    /// Only names this set holds are compared: a client that never chose a value takes the server's.
    public func setStatement(toMatch server: TrackedParameters) -> String? {
        var parts: [String]?
        for index in 0..<Self.names.count {
            guard let wanted = slots[index], server.slots[index] != wanted else { continue }
            parts = (parts ?? []) + ["SET \(Self.names[index].spelling) = \(TrackedParameters.quoteLiteral(wanted))"]
        }
        return parts.map { $0.joined(separator: "; ") + ";" }
    }

    public static func == (lhs: TrackedParameters, rhs: TrackedParameters) -> Bool {
        for index in 0..<names.count where lhs.slots[index] != rhs.slots[index] { return false }
        return true
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
