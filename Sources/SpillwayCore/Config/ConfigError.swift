/// A configuration or auth file that cannot be used; carries the first problem found.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where and what: file, line, key and message.
    public var diagnostic: ConfigDiagnostic

    public init(diagnostic: ConfigDiagnostic) {
        self.diagnostic = diagnostic
    }

    public init(file: String, line: Int, key: String? = nil, message: String) {
        self.diagnostic = ConfigDiagnostic(file: file, line: line, key: key, message: message)
    }

    /// The diagnostic's description: `spillway.ini:7: pool_mode: expected one of …, got 'sessoin'`.
    public var description: String { diagnostic.description }
}
