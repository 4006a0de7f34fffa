/// The transaction status byte of ReadyForQuery: where the session stands when the server is ready again.
///
/// In transaction pooling the server goes back to the pool only on `.idle`.
public enum TransactionStatus: UInt8, Sendable {
    /// 'I': not in a transaction block. The server may be released.
    case idle = 73
    /// 'T': inside a transaction block. The client keeps the server.
    case inTransaction = 84
    /// 'E': inside a failed transaction block; queries are rejected until ROLLBACK. The client keeps the server.
    case failed = 69
}
