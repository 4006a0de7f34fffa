/// A value text that a setting or connection parameter does not accept, without file or line.
///
/// The INI parser wraps it into a `ConfigError` with the location; the admin console's `SET` can
/// answer `message` directly.
public struct InvalidSettingValue: Error, Sendable, Equatable, CustomStringConvertible {
    /// Names the setting and what it allows: `pool_mode: expected one of session, transaction, statement, got 'x'`.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
