/// Parses and formats INI value text for each `ParameterKind`; errors name the setting and what it allows.
enum ConfigValue {
    /// A whole number in `range`: `default_pool_size: expected an integer from 1 to 10000, got 'abc'`.
    static func integer(_ text: String, name: String, range: ClosedRange<Int>) throws(InvalidSettingValue) -> Int {
        guard let value = Int(trimmed(text)), range.contains(value) else {
            throw InvalidSettingValue(
                "\(name): expected an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// `auto` (or empty) as nil, else a whole number in `range`.
    static func integerOrAuto(
        _ text: String, name: String, range: ClosedRange<Int>
    ) throws(InvalidSettingValue) -> Int? {
        let word = trimmed(text).lowercased()
        if word == "auto" || word.isEmpty { return nil }
        guard let value = Int(word), range.contains(value) else {
            throw InvalidSettingValue(
                "\(name): expected 'auto' or an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// Units a duration may carry, longest first so `min` and `ms` win over `s`.
    private static let units: [(suffix: String, seconds: Double)] = [
        ("min", 60), ("ms", 0.001), ("s", 1), ("h", 3600), ("d", 86400),
    ]

    /// Seconds, fractional allowed, optionally with a unit: `120`, `0.5`, `500ms`, `5s`, `2min`, `1h`, `1d`.
    static func seconds(_ text: String, name: String) throws(InvalidSettingValue) -> Double {
        var number = trimmed(text).lowercased()
        var scale = 1.0
        for unit in units where number.hasSuffix(unit.suffix) {
            number = trimmed(String(number.dropLast(unit.suffix.count)))
            scale = unit.seconds
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else {
            throw InvalidSettingValue(
                "\(name): expected a duration in seconds (a number, optionally with ms, s, min, h or d), got '\(text)'")
        }
        return value * scale
    }

    /// `0`/`1`, `no`/`yes`, `off`/`on`, `false`/`true`, any letter case.
    static func boolean(_ text: String, name: String) throws(InvalidSettingValue) -> Bool {
        switch trimmed(text).lowercased() {
        case "1", "yes", "on", "true": return true
        case "0", "no", "off", "false": return false
        default:
            throw InvalidSettingValue("\(name): expected a boolean (0/1, yes/no, on/off, true/false), got '\(text)'")
        }
    }

    /// `a, b,,c` → `["a", "b", "c"]`.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { trimmed(String($0)) }.filter { !$0.isEmpty }
    }

    /// One of `Choice`'s raw values, any letter case.
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ text: String, name: String, as type: Choice.Type = Choice.self
    ) throws(InvalidSettingValue) -> Choice where Choice.RawValue == String {
        let word = trimmed(text).lowercased()
        guard let value = Choice.allCases.first(where: { $0.rawValue.lowercased() == word }) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw InvalidSettingValue("\(name): expected one of \(allowed), got '\(text)'")
        }
        return value
    }

    /// `5` for whole seconds, `0.5` otherwise.
    static func format(seconds: Double) -> String {
        if seconds == seconds.rounded(), abs(seconds) < 1e15 {
            return String(Int(seconds))
        }
        return String(seconds)
    }

    /// `1` or `0`, as PgBouncer prints booleans.
    static func format(boolean: Bool) -> String {
        boolean ? "1" : "0"
    }

    /// Items joined by `,`, as they would be written in the INI file.
    static func format(list: [String]) -> String {
        list.joined(separator: ",")
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed(_ text: String) -> String {
        var slice = Substring(text)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
