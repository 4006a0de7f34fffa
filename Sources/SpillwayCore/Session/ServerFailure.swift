import PostgresWire

/// Why a server connection could not be used.
public struct ServerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for logs and for clients refused because of it; never a secret.
    public var message: String
    /// What PostgreSQL said, when it said something.
    public var serverError: ErrorResponse?
    /// The pool is pausing logins after this failure (server_login_retry).
    public var retryPaused = false

    public init(message: String, serverError: ErrorResponse? = nil, retryPaused: Bool = false) {
        self.message = message
        self.serverError = serverError
        self.retryPaused = retryPaused
    }

    public var description: String { message }
}
