/// The `auth_file` (userlist.txt): user names and their passwords or password secrets.
///
/// Each line is `"user" "secret"`; anything after the second quoted field is ignored. Inside quotes `""`
/// is one `"`. Blank lines and lines starting with `;` or `#` are skipped. A secret is a plain password,
/// `md5…` (md5 of password + user name) or `SCRAM-SHA-256$…`; see `StoredPassword`. A later line for the
/// same user replaces an earlier one. Errors never quote a password.
public struct UserList: Sendable, Equatable {
    /// Secret text by user name, as written (unquoted).
    public var passwords: [String: String]

    public init(passwords: [String: String] = [:]) {
        self.passwords = passwords
    }

    /// The secret stored for `user`, classified; nil for unknown users.
    public func secret(for user: String) -> StoredPassword? {
        passwords[user].map(StoredPassword.init)
    }

    /// Parses userlist text; `file` names it in diagnostics. Throws for the first malformed line.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> UserList {
        var list = UserList()
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var rest = Substring(raw)
            skipSpaces(&rest)
            guard let first = rest.first, first != ";", first != "#" else { continue }
            func fail(_ user: String?, _ message: String) -> ConfigError {
                ConfigError(
                    file: file, line: index + 1, key: user,
                    message: user.map { "user '\($0)': \(message)" } ?? message)
            }
            guard let user = quoted(&rest) else {
                throw fail(nil, rest.first == "\"" ? "unterminated quoted user name" : #"expected "user" "password""#)
            }
            skipSpaces(&rest)
            guard rest.first == "\"" else {
                throw fail(user, "expected a quoted password after the user name")
            }
            guard let password = quoted(&rest) else {
                throw fail(user, "unterminated quoted password")
            }
            list.passwords[user] = password
        }
        return list
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(ConfigError) -> UserList {
        try parse(ConfigFile.read(path), file: path)
    }

    private static func skipSpaces(_ text: inout Substring) {
        while let first = text.first, first.isWhitespace { text.removeFirst() }
    }

    /// Consumes `"…"` (with `""` for `"`) from the front of `text`; nil if it does not start with a quote or
    /// the quote is not closed.
    private static func quoted(_ text: inout Substring) -> String? {
        guard text.first == "\"" else { return nil }
        var rest = text.dropFirst()
        var value = ""
        while let char = rest.popFirst() {
            if char == "\"" {
                guard rest.first == "\"" else {
                    text = rest
                    return value
                }
                rest.removeFirst()
            }
            value.append(char)
        }
        return nil
    }
}
