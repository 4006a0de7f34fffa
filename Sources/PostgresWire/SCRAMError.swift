/// A SCRAM exchange that cannot go on: a malformed message, a wrong proof or signature, or a step out of order.
///
/// Messages are lowercase and never contain a password, key or proof, so they may be logged and sent to a client.
public struct SCRAMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, e.g. "invalid client proof".
    public var message: String

    /// Wraps a message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
