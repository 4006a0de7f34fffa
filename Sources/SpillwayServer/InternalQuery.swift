import PostgresWire
import SpillwayCore

/// Statements Spillway runs itself: their replies never reach a client.
struct InternalQuery {
    var remainingReadyForQuery: Int
    var error: ErrorResponse?
    var completion: (Result<TransactionStatus, ServerFailure>) -> Void
    /// DataRow values received, as text (for `runInternalQuery`).
    var rows: [[String?]] = []
    /// Set by `runInternalQuery`: gets the rows instead of `completion` getting the status.
    var rowsCompletion: ((Result<[[String?]], ServerFailure>) -> Void)?
}
