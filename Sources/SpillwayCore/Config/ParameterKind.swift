/// The type of value a setting or connection parameter takes, as parsed from INI text and shown in docs.
public enum ParameterKind: Sendable, Equatable, CustomStringConvertible {
    /// A whole number within the range.
    case integer(ClosedRange<Int>)
    /// A whole number within the range, or `auto` (stored as nil).
    case integerOrAuto(ClosedRange<Int>)
    /// A duration in seconds: `5`, `0.5`, or with a unit: `500ms`, `5s`, `2min`, `1h`, `1d`. Never negative.
    case seconds
    /// `0`/`1`, `no`/`yes`, `off`/`on`, `false`/`true`, any letter case.
    case boolean
    /// Any text, stored as written.
    case string
    /// Comma-separated values; spaces around items and empty items are dropped.
    case list
    /// One of these words, any letter case.
    case choice([String])
    /// A PgBouncer setting accepted with no effect yet; stored as written, not checked.
    case text

    /// How docs/configuration.md names the type: `integer 1–10000`, `seconds`, `one of session, …`.
    public var description: String {
        switch self {
        case .integer(let range): "integer \(range.lowerBound)–\(range.upperBound)"
        case .integerOrAuto(let range): "`auto` or integer \(range.lowerBound)–\(range.upperBound)"
        case .seconds: "seconds"
        case .boolean: "boolean"
        case .string: "string"
        case .list: "comma-separated list"
        case .choice(let words): "one of " + words.map { "`\($0)`" }.joined(separator: ", ")
        case .text: "text"
        }
    }
}
