/// A problem found in a configuration or auth file, pointing at the line that caused it.
///
/// `message` is the complete sentence shown to users and already names the setting when there is one
/// (`default_pool_size: expected an integer from 1 to 10000, got 'abc'`); `key` repeats that setting's
/// name (or the database alias / user name of the line) for programs.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The file as named to the parser (the path given to `load`, or the `file:` argument of `parse`).
    public var file: String
    /// 1-based line number; 0 when the problem concerns the whole file (for example, it cannot be read).
    public var line: Int
    /// The setting, database alias or user name of the offending line, if any.
    public var key: String?
    /// What is wrong and what is allowed, lowercase, no final period.
    public var message: String

    public init(file: String, line: Int, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `spillway.ini:12: unknown setting 'foo' ignored`; the line is left out when it is 0.
    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}
