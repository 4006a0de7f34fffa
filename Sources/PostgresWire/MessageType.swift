/// Byte1 of every message after the startup phase: which message it is, named as in PostgreSQL's "Message
/// Formats" chapter.
///
/// Frontend and backend reuse bytes, so one raw value may have two names: 'S' is ParameterStatus from the server
/// and Sync from the client, 'D' DataRow and Describe, 'E' ErrorResponse and Execute, 'C' CommandComplete and
/// Close, 'H' CopyOutResponse and Flush. Which name applies depends on who sent the frame. Any byte is a
/// `MessageType`, as a peer may send any byte; the constants are the ones PostgreSQL defines.
public struct MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The type byte as sent.
    public var rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `'Z'` for a printable ASCII byte, `0xFE` otherwise, so a garbage byte never reaches a log raw.
    public var description: String {
        WireError.name(ofType: rawValue)
    }

    // MARK: Backend (server to client)

    /// 'R' Authentication: AuthenticationOk or a request for credentials (the Int32 code says which).
    public static let authentication = MessageType(rawValue: UInt8(ascii: "R"))
    /// 'K' BackendKeyData: the process ID and secret key that cancel this session's queries.
    public static let backendKeyData = MessageType(rawValue: UInt8(ascii: "K"))
    /// '2' BindComplete: a Bind succeeded.
    public static let bindComplete = MessageType(rawValue: UInt8(ascii: "2"))
    /// '3' CloseComplete: a Close succeeded.
    public static let closeComplete = MessageType(rawValue: UInt8(ascii: "3"))
    /// 'C' CommandComplete: a statement finished; the body is its command tag. Same byte as frontend Close.
    public static let commandComplete = MessageType(rawValue: UInt8(ascii: "C"))
    /// 'G' CopyInResponse: the server is ready for COPY FROM STDIN data.
    public static let copyInResponse = MessageType(rawValue: UInt8(ascii: "G"))
    /// 'H' CopyOutResponse: COPY TO STDOUT data follows. Same byte as frontend Flush.
    public static let copyOutResponse = MessageType(rawValue: UInt8(ascii: "H"))
    /// 'W' CopyBothResponse: COPY data flows both ways (streaming replication).
    public static let copyBothResponse = MessageType(rawValue: UInt8(ascii: "W"))
    /// 'D' DataRow: one row of a result. Same byte as frontend Describe.
    public static let dataRow = MessageType(rawValue: UInt8(ascii: "D"))
    /// 'I' EmptyQueryResponse: the answer to an empty query string, in place of CommandComplete.
    public static let emptyQueryResponse = MessageType(rawValue: UInt8(ascii: "I"))
    /// 'E' ErrorResponse: a command or the session failed. Same byte as frontend Execute.
    public static let errorResponse = MessageType(rawValue: UInt8(ascii: "E"))
    /// 'V' FunctionCallResponse: the result of a FunctionCall.
    public static let functionCallResponse = MessageType(rawValue: UInt8(ascii: "V"))
    /// 'v' NegotiateProtocolVersion: the server supports a lower minor version or not all requested options.
    public static let negotiateProtocolVersion = MessageType(rawValue: UInt8(ascii: "v"))
    /// 'n' NoData: the described statement or portal returns no rows.
    public static let noData = MessageType(rawValue: UInt8(ascii: "n"))
    /// 'N' NoticeResponse: same fields as ErrorResponse, but nothing failed.
    public static let noticeResponse = MessageType(rawValue: UInt8(ascii: "N"))
    /// 'A' NotificationResponse: a NOTIFY on a channel the session LISTENs to.
    public static let notificationResponse = MessageType(rawValue: UInt8(ascii: "A"))
    /// 't' ParameterDescription: the parameter types of a described statement.
    public static let parameterDescription = MessageType(rawValue: UInt8(ascii: "t"))
    /// 'S' ParameterStatus: a run-time parameter's current value. Same byte as frontend Sync.
    public static let parameterStatus = MessageType(rawValue: UInt8(ascii: "S"))
    /// '1' ParseComplete: a Parse succeeded.
    public static let parseComplete = MessageType(rawValue: UInt8(ascii: "1"))
    /// 's' PortalSuspended: an Execute stopped at its row limit.
    public static let portalSuspended = MessageType(rawValue: UInt8(ascii: "s"))
    /// 'Z' ReadyForQuery: the server is ready for a new query cycle; the body is the transaction status.
    public static let readyForQuery = MessageType(rawValue: UInt8(ascii: "Z"))
    /// 'T' RowDescription: the columns of the rows that follow.
    public static let rowDescription = MessageType(rawValue: UInt8(ascii: "T"))

    // MARK: Both directions

    /// 'd' CopyData: a chunk of COPY data, from either side.
    public static let copyData = MessageType(rawValue: UInt8(ascii: "d"))
    /// 'c' CopyDone: the end of COPY data, from either side.
    public static let copyDone = MessageType(rawValue: UInt8(ascii: "c"))

    // MARK: Frontend (client to server)

    /// 'B' Bind: binds parameters to a prepared statement, making a portal.
    public static let bind = MessageType(rawValue: UInt8(ascii: "B"))
    /// 'C' Close: closes a prepared statement or portal. Same byte as backend CommandComplete.
    public static let close = MessageType(rawValue: UInt8(ascii: "C"))
    /// 'f' CopyFail: the client aborts COPY FROM STDIN.
    public static let copyFail = MessageType(rawValue: UInt8(ascii: "f"))
    /// 'D' Describe: asks for a statement's or portal's description. Same byte as backend DataRow.
    public static let describe = MessageType(rawValue: UInt8(ascii: "D"))
    /// 'E' Execute: runs a portal. Same byte as backend ErrorResponse.
    public static let execute = MessageType(rawValue: UInt8(ascii: "E"))
    /// 'H' Flush: the server should send what it has buffered. Same byte as backend CopyOutResponse.
    public static let flush = MessageType(rawValue: UInt8(ascii: "H"))
    /// 'F' FunctionCall: calls a function by OID (the legacy fast-path interface).
    public static let functionCall = MessageType(rawValue: UInt8(ascii: "F"))
    /// 'P' Parse: prepares a statement.
    public static let parse = MessageType(rawValue: UInt8(ascii: "P"))
    /// 'p' PasswordMessage; also SASLInitialResponse, SASLResponse and GSSResponse (the pending request says which).
    public static let password = MessageType(rawValue: UInt8(ascii: "p"))
    /// 'Q' Query: a simple query, one or more SQL statements.
    public static let query = MessageType(rawValue: UInt8(ascii: "Q"))
    /// 'S' Sync: ends an extended-query batch, answered by ReadyForQuery. Same byte as backend ParameterStatus.
    public static let sync = MessageType(rawValue: UInt8(ascii: "S"))
    /// 'X' Terminate: the client is leaving; close without reply.
    public static let terminate = MessageType(rawValue: UInt8(ascii: "X"))
}
