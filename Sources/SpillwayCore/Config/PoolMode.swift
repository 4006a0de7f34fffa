/// When a client gives its server connection back to the pool (`pool_mode`).
public enum PoolMode: String, Sendable, CaseIterable {
    /// The client keeps one server connection from login until it disconnects.
    case session
    /// The client holds a server connection only while a transaction is open.
    case transaction
    /// The server connection returns to the pool after every statement; multi-statement transactions are refused.
    case statement
}
