/// Splits INI text into meaningful lines: section headers, `key = value` entries and `%include` directives.
///
/// Blank lines and lines whose first non-blank character is `;` or `#` are skipped. A key may be written
/// in double quotes (`"my db" = …`) to hold spaces or `=`. Values run to the end of the line, trimmed;
/// there are no inline comments, as in PgBouncer (`server_reset_query = DISCARD ALL; RESET x` is one value).
enum INIReader {
    /// One meaningful line and where it came from.
    struct Line: Sendable, Equatable {
        /// What the line says.
        enum Content: Sendable, Equatable {
            /// `[name]`, name trimmed and as written.
            case section(String)
            /// `key = value`; key as written (quotes removed), value trimmed and still quoted if it was.
            case entry(key: String, value: String)
            /// `%include path`; the path unquoted, not yet resolved.
            case include(String)
        }

        /// The file the line came from, as named to the reader.
        var file: String
        /// 1-based line number in `file`.
        var number: Int
        /// What the line says.
        var content: Content
    }

    /// The meaningful lines of `text`; throws on the first line that is not a section, entry, include or comment.
    static func read(_ text: String, file: String) throws(ConfigError) -> [Line] {
        var lines: [Line] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = ConfigValue.trimmed(String(raw))
            guard let first = line.first, first != ";", first != "#" else { continue }
            let number = index + 1
            if let content = try content(of: line, file: file, number: number) {
                lines.append(Line(file: file, number: number, content: content))
            }
        }
        return lines
    }

    /// Parses one trimmed, non-empty, non-comment line.
    private static func content(of line: String, file: String, number: Int) throws(ConfigError) -> Line.Content? {
        if line.hasPrefix("%include") {
            let path = ConfigValue.trimmed(String(line.dropFirst("%include".count)))
            guard !path.isEmpty, line.dropFirst("%include".count).first?.isWhitespace == true else {
                throw ConfigError(file: file, line: number, message: "expected '%include <path>', got '\(line)'")
            }
            return .include(unquote(path))
        }
        if line.hasPrefix("[") {
            guard line.hasSuffix("]"), line.count >= 2 else {
                throw ConfigError(file: file, line: number, message: "unterminated section header '\(line)'")
            }
            return .section(ConfigValue.trimmed(String(line.dropFirst().dropLast())))
        }
        let (key, rest) = try splitKey(line, file: file, number: number)
        guard let equals = rest.firstIndex(of: "="), ConfigValue.trimmed(String(rest[..<equals])).isEmpty else {
            throw ConfigError(
                file: file, line: number, key: key.isEmpty ? nil : key,
                message: "expected 'name = value', got '\(line)'")
        }
        guard !key.isEmpty else {
            throw ConfigError(file: file, line: number, message: "missing name before '=' in '\(line)'")
        }
        return .entry(key: key, value: ConfigValue.trimmed(String(rest[rest.index(after: equals)...])))
    }

    /// The key (unquoted if written as `"…"`, `""` meaning one `"`) and the text after it.
    private static func splitKey(
        _ line: String, file: String, number: Int
    ) throws(ConfigError) -> (key: String, rest: Substring) {
        guard line.first == "\"" else {
            let end = line.firstIndex(of: "=") ?? line.endIndex
            return (ConfigValue.trimmed(String(line[..<end])), line[end...])
        }
        var key = ""
        var index = line.index(after: line.startIndex)
        while index < line.endIndex {
            let next = line.index(after: index)
            if line[index] == "\"" {
                guard next < line.endIndex, line[next] == "\"" else { return (key, line[next...]) }
                key.append("\"")
                index = line.index(after: next)
            } else {
                key.append(line[index])
                index = next
            }
        }
        throw ConfigError(file: file, line: number, message: "unterminated quoted name in '\(line)'")
    }

    /// `"text"` or `'text'` without its quotes; anything else unchanged.
    static func unquote(_ value: String) -> String {
        guard value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first else {
            return value
        }
        return String(value.dropFirst().dropLast())
    }
}
