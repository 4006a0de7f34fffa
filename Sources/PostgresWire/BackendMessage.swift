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

    /// Decodes the frame if it is one of the types above, else returns nil (opaque: DataRow, RowDescription,
    /// CommandComplete ...). Throws when the type is known but the body does not parse.
    public init?(frame: Frame) throws(WireError) {
        var body = frame.body
        switch frame.type {
        case .authentication:
            self = .authentication(try AuthenticationRequest(body: body))
        case .parameterStatus:
            let name = try body.readCString("parameter status name")  // String: parameter name
            let value = try body.readCString("parameter status value")  // String: parameter value
            try body.expectEnd(of: "parameter status")
            self = .parameterStatus(name: name, value: value)
        case .backendKeyData:
            let processID: Int32 = try body.readWireInteger("backend process ID")  // Int32: process ID
            let secretKey: Int32 = try body.readWireInteger("backend secret key")  // Int32: secret key
            try body.expectEnd(of: "backend key data")
            self = .backendKeyData(CancelRequest(processID: processID, secretKey: secretKey))
        case .readyForQuery:
            let byte: UInt8 = try body.readWireInteger("transaction status")  // Byte1: 'I', 'T' or 'E'
            try body.expectEnd(of: "ready for query")
            guard let status = TransactionStatus(rawValue: byte) else {
                throw .malformed("invalid transaction status \(WireError.name(ofType: byte)) in ready for query")
            }
            self = .readyForQuery(status)
        case .errorResponse:
            self = .errorResponse(try ErrorResponse(body: body))
        case .noticeResponse:
            self = .noticeResponse(try ErrorResponse(body: body))
        default:
            return nil
        }
    }

    /// Writes the complete message, header included.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .authentication(let request):
            buffer.writeMessage(type: .authentication) { request.encodeBody(into: &$0) }
        case .parameterStatus(let name, let value):
            buffer.writeMessage(type: .parameterStatus) { body in
                body.writeCString(name)  // String: parameter name
                body.writeCString(value)  // String: parameter value
            }
        case .backendKeyData(let key):
            buffer.writeMessage(type: .backendKeyData) { body in
                body.writeInteger(key.processID)  // Int32: process ID
                body.writeInteger(key.secretKey)  // Int32: secret key
            }
        case .readyForQuery(let status):
            buffer.writeMessage(type: .readyForQuery) { body in
                body.writeInteger(status.rawValue)  // Byte1: transaction status
            }
        case .errorResponse(let error):
            error.encode(into: &buffer, type: .errorResponse)
        case .noticeResponse(let notice):
            notice.encode(into: &buffer, type: .noticeResponse)
        }
    }
}
