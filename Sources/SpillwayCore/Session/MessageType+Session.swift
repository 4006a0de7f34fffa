import PostgresWire

/// What a client's message types mean to its session: which may come after login, which are answered by a
/// ReadyForQuery.
extension MessageType {
    /// The message types a logged-in client may send: Query, the extended protocol (Parse, Bind, Describe,
    /// Execute, Close, Sync, Flush), FunctionCall, COPY (CopyData, CopyDone, CopyFail) and Terminate. Anything
    /// else (a PasswordMessage after login, a type PostgreSQL does not have) is a protocol violation: PostgreSQL
    /// and PgBouncer answer 08P01 and close.
    @inline(__always)
    public var isValidAfterLogin: Bool {
        Self.validAfterLogin[Int(rawValue)]
    }

    private static let validAfterLogin: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        let types: [MessageType] = [
            .query, .sync, .functionCall, .terminate, .parse, .bind, .describe, .execute, .close, .copyDone,
            .copyFail, .copyData, .flush,
        ]
        for type in types {
            table[Int(type.rawValue)] = true
        }
        return table
    }()

    /// Query, Sync and FunctionCall are each answered by exactly one ReadyForQuery.
    @inline(__always)
    public var endsWithReadyForQuery: Bool {
        self == .query || self == .sync || self == .functionCall
    }
}
