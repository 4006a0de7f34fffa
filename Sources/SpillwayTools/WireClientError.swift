import PostgresWire

/// Why a `WireClient` connect or query failed. `description` is one line fit for a report:
/// `FATAL 53300: sorry, too many clients already`, `connect timed out after 2s`.
public enum WireClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an ErrorResponse (SQLSTATE and message inside).
    case server(ErrorResponse)
    /// No TCP connection: refused, unreachable, reset during the handshake; the text is the system's.
    case connectFailed(String)
    /// Connecting and logging in took longer than the connect timeout; the connection is closed.
    case connectTimeout(Duration)
    /// The query's answer did not end within its timeout; the connection is closed.
    case queryTimeout(Duration)
    /// The connection ended before the answer did (also after `close()`).
    case connectionClosed
    /// The server asked for an authentication method this client does not speak, or for a password it lacks,
    /// or the SCRAM exchange failed.
    case authentication(String)
    /// The server sent bytes this client cannot take; the connection is closed.
    case protocolViolation(String)
    /// A second query was sent on the connection while one was still in progress.
    case busy
    /// The calling task was cancelled; the connection is closed.
    case cancelled

    /// The SQLSTATE the server sent, if the server sent an error.
    public var sqlState: String? {
        guard case .server(let response) = self else { return nil }
        return response.code?.rawValue
    }

    public var description: String {
        switch self {
        case .server(let response):
            let severity = response.severity ?? "ERROR"
            let code = response.code?.rawValue ?? "?????"
            return "\(severity) \(code): \(response.message ?? "(no message)")"
        case .connectFailed(let reason):
            return "could not connect: \(reason)"
        case .connectTimeout(let timeout):
            return "connect timed out after \(timeout.formattedSeconds)"
        case .queryTimeout(let timeout):
            return "query timed out after \(timeout.formattedSeconds)"
        case .connectionClosed:
            return "connection closed by the server"
        case .authentication(let reason):
            return "authentication failed: \(reason)"
        case .protocolViolation(let reason):
            return "protocol violation: \(reason)"
        case .busy:
            return "another query is in progress on this connection"
        case .cancelled:
            return "cancelled"
        }
    }
}
