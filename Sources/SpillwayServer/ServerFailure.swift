import PostgresWire

/// Why a server connection could not be used.
struct ServerFailure: Error, CustomStringConvertible {
    var message: String
    /// What PostgreSQL said, when it said something.
    var serverError: ErrorResponse?
    /// The pool is pausing logins after this failure (server_login_retry).
    var retryPaused = false
    var description: String { message }
}
