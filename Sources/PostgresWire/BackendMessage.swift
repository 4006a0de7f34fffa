import NIOCore

/// A message from PostgreSQL that the pooler acts on. Every other type (RowDescription, DataRow, CommandComplete ...)
/// stays an opaque `Frame` and is forwarded as received.
public enum BackendMessage: Sendable, Equatable {
    /// 'R' Authentication: a request for credentials, or AuthenticationOk.
    case authentication(AuthenticationRequest)
    /// 'S' ParameterStatus: a run-time parameter's current value (sent at startup and when it changes).
    case parameterStatus(name: String, value: String)
    /// 'K' BackendKeyData: the process ID and secret key that cancel this session's queries.
    case backendKeyData(CancelRequest)
    /// 'Z' ReadyForQuery: the server is ready for a new query cycle, in this transaction status.
    case readyForQuery(TransactionStatus)
    /// 'E' ErrorResponse.
    case errorResponse(ErrorResponse)
    /// 'N' NoticeResponse: same fields as an error, but nothing failed.
    case noticeResponse(ErrorResponse)

    /// Message type bytes sent by the server.
    public enum Kind {
        /// 'R': Authentication.
        public static let authentication = UInt8(ascii: "R")
        /// 'S': ParameterStatus.
        public static let parameterStatus = UInt8(ascii: "S")
        /// 'K': BackendKeyData.
        public static let backendKeyData = UInt8(ascii: "K")
        /// 'Z': ReadyForQuery.
        public static let readyForQuery = UInt8(ascii: "Z")
        /// 'E': ErrorResponse.
        public static let errorResponse = UInt8(ascii: "E")
        /// 'N': NoticeResponse.
        public static let noticeResponse = UInt8(ascii: "N")
    }

    /// Decodes the frame if it is one of the types above, else returns nil (opaque: DataRow, RowDescription,
    /// CommandComplete ...). Throws when the type is known but the body does not parse.
    public init?(frame: Frame) throws(WireError) {
        var body = frame.body
        switch frame.type {
        case Kind.authentication:
            self = .authentication(try AuthenticationRequest(body: body))
        case Kind.parameterStatus:
            let name = try body.readCString("parameter status name")  // String: parameter name
            let value = try body.readCString("parameter status value")  // String: parameter value
            try body.expectEnd(of: "parameter status")
            self = .parameterStatus(name: name, value: value)
        case Kind.backendKeyData:
            let processID: Int32 = try body.readWireInteger("backend process ID")  // Int32: process ID
            let secretKey: Int32 = try body.readWireInteger("backend secret key")  // Int32: secret key
            try body.expectEnd(of: "backend key data")
            self = .backendKeyData(CancelRequest(processID: processID, secretKey: secretKey))
        case Kind.readyForQuery:
            let byte: UInt8 = try body.readWireInteger("transaction status")  // Byte1: 'I', 'T' or 'E'
            try body.expectEnd(of: "ready for query")
            guard let status = TransactionStatus(rawValue: byte) else {
                throw .malformed("invalid transaction status \(WireError.name(ofType: byte)) in ready for query")
            }
            self = .readyForQuery(status)
        case Kind.errorResponse:
            self = .errorResponse(try ErrorResponse(body: body))
        case Kind.noticeResponse:
            self = .noticeResponse(try ErrorResponse(body: body))
        default:
            return nil
        }
    }

    /// Writes the complete message, header included.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .authentication(let request):
            buffer.writeMessage(type: Kind.authentication) { request.encodeBody(into: &$0) }
        case .parameterStatus(let name, let value):
            buffer.writeMessage(type: Kind.parameterStatus) { body in
                body.writeCString(name)  // String: parameter name
                body.writeCString(value)  // String: parameter value
            }
        case .backendKeyData(let key):
            buffer.writeMessage(type: Kind.backendKeyData) { body in
                body.writeInteger(key.processID)  // Int32: process ID
                body.writeInteger(key.secretKey)  // Int32: secret key
            }
        case .readyForQuery(let status):
            buffer.writeMessage(type: Kind.readyForQuery) { body in
                body.writeInteger(status.rawValue)  // Byte1: transaction status
            }
        case .errorResponse(let error):
            error.encode(into: &buffer, type: Kind.errorResponse)
        case .noticeResponse(let notice):
            notice.encode(into: &buffer, type: Kind.noticeResponse)
        }
    }
}
