/// A five-character SQLSTATE error code, as carried in the `C` field of an ErrorResponse or NoticeResponse.
///
/// Spillway sends clients only codes named here, so every error a user sees maps to PostgreSQL's table
/// (Appendix A, "PostgreSQL Error Codes").
public struct SQLState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code itself, five ASCII characters such as `"08P01"`.
    public let rawValue: String

    /// Wraps a code as received; no check is made, since a server may send codes newer than this table.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Wraps a code: `SQLState("57014")`.
    public init(_ code: String) {
        self.rawValue = code
    }

    public var description: String { self.rawValue }

    /// The first two characters: the class of the condition (`"08"` for connection exceptions).
    public var errorClass: Substring { self.rawValue.prefix(2) }

    // MARK: Class 00 — Successful Completion

    /// 00000: no error.
    public static let successfulCompletion = SQLState("00000")
    /// 01000: a warning (the class of NoticeResponses that are not errors).
    public static let warning = SQLState("01000")

    // MARK: Class 08 — Connection Exception

    /// 08000: a connection-level failure of no finer kind.
    public static let connectionException = SQLState("08000")
    /// 08001: Spillway could not open a server connection for the client.
    public static let unableToEstablishConnection = SQLState("08001")
    /// 08006: an established connection broke.
    public static let connectionFailure = SQLState("08006")
    /// 08P01: the peer sent bytes that do not follow the protocol.
    public static let protocolViolation = SQLState("08P01")

    // MARK: Class 0A — Feature Not Supported

    /// 0A000: a valid request Spillway does not implement (e.g. protocol 2.0, channel binding).
    public static let featureNotSupported = SQLState("0A000")

    // MARK: Class 22 — Data Exception

    /// 22023: a setting or argument has a value outside its range.
    public static let invalidParameterValue = SQLState("22023")

    // MARK: Class 25 — Invalid Transaction State

    /// 25000: the request is not allowed in the current transaction state.
    public static let invalidTransactionState = SQLState("25000")
    /// 25001: the request is not allowed inside a transaction block.
    public static let activeSQLTransaction = SQLState("25001")
    /// 25P03: the session sat idle in a transaction for too long.
    public static let idleInTransactionSessionTimeout = SQLState("25P03")
    /// 25P04: the transaction ran longer than allowed (PostgreSQL 17's transaction_timeout).
    public static let transactionTimeout = SQLState("25P04")

    // MARK: Class 28 — Invalid Authorization Specification

    /// 28000: the user may not log in this way (unknown user, no matching auth rule).
    public static let invalidAuthorizationSpecification = SQLState("28000")
    /// 28P01: password authentication failed.
    public static let invalidPassword = SQLState("28P01")

    // MARK: Class 3D — Invalid Catalog Name

    /// 3D000: no such database.
    public static let invalidCatalogName = SQLState("3D000")

    // MARK: Class 53 — Insufficient Resources

    /// 53300: a connection limit was reached.
    public static let tooManyConnections = SQLState("53300")

    // MARK: Class 42 — Syntax Error or Access Rule Violation

    /// 42601: a command the console (or Spillway) could not parse.
    public static let syntaxError = SQLState("42601")
    /// 42501: the user may not run this command (stats_users running an admin command).
    public static let insufficientPrivilege = SQLState("42501")

    // MARK: Class 54 — Program Limit Exceeded

    /// 54000: a size limit was exceeded (e.g. max_packet_size).
    public static let programLimitExceeded = SQLState("54000")

    // MARK: Class 57 — Operator Intervention

    /// 57014: the query was canceled, by request or by a timeout.
    public static let queryCanceled = SQLState("57014")
    /// 57P01: the connection is closed by an administrator (SHUTDOWN).
    public static let adminShutdown = SQLState("57P01")
    /// 57P03: the pooler or server cannot accept connections right now (starting, pausing).
    public static let cannotConnectNow = SQLState("57P03")

    // MARK: Class XX — Internal Error

    /// XX000: a bug or an unexpected condition inside Spillway.
    public static let internalError = SQLState("XX000")
}
