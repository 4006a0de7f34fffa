/// Splits a libpq-style connection string, as written in `[databases]` and `[users]`, into key/value pairs.
///
/// `host=db1 port=5432 connect_query='SELECT 1'`: pairs are separated by spaces, spaces around `=` are
/// allowed, keys are case-insensitive. A value in single quotes may hold spaces; inside it `\'` and `''`
/// are a quote and `\\` a backslash (other backslashes stay as written, as in PgBouncer).
enum ConnectionString {
    /// The pairs in order, keys lowercased. Errors never quote a password.
    static func parse(_ text: String) throws(InvalidSettingValue) -> [(key: String, value: String)] {
        let chars = Array(text)
        var index = 0
        var pairs: [(key: String, value: String)] = []

        func skipSpaces() {
            while index < chars.count, chars[index].isWhitespace { index += 1 }
        }

        while true {
            skipSpaces()
            guard index < chars.count else { break }
            let keyStart = index
            while index < chars.count, chars[index] != "=", !chars[index].isWhitespace { index += 1 }
            let key = String(chars[keyStart..<index]).lowercased()
            skipSpaces()
            guard index < chars.count, chars[index] == "=" else {
                // A stray word after an unquoted password is part of that password: do not echo it.
                if pairs.last?.key == "password" {
                    throw InvalidSettingValue("expected key=value after the password (quote values with spaces)")
                }
                throw InvalidSettingValue("expected key=value, got '\(key)'")
            }
            guard !key.isEmpty else { throw InvalidSettingValue("missing parameter name before '='") }
            index += 1
            skipSpaces()
            let value: String
            if index < chars.count, chars[index] == "'" {
                index += 1
                value = try quotedValue(chars, &index, key: key)
                guard index == chars.count || chars[index].isWhitespace else {
                    throw InvalidSettingValue("expected a space after the quoted value of '\(key)'")
                }
            } else {
                let valueStart = index
                while index < chars.count, !chars[index].isWhitespace { index += 1 }
                value = String(chars[valueStart..<index])
            }
            pairs.append((key, value))
        }
        return pairs
    }

    /// Reads from just after an opening quote to just after the closing one.
    private static func quotedValue(
        _ chars: [Character], _ index: inout Int, key: String
    ) throws(InvalidSettingValue) -> String {
        var value = ""
        while index < chars.count {
            let char = chars[index]
            let next: Character? = index + 1 < chars.count ? chars[index + 1] : nil
            if char == "\\", let next, next == "'" || next == "\\" {
                value.append(next)
                index += 2
            } else if char == "'" {
                if next == "'" {
                    value.append("'")
                    index += 2
                } else {
                    index += 1
                    return value
                }
            } else {
                value.append(char)
                index += 1
            }
        }
        throw InvalidSettingValue("unterminated quoted value for '\(key)'")
    }
}
