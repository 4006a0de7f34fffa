import NIOCore

/// A message from a client that the pooler acts on. Every other type (Parse, Bind, Execute, Describe, Close,
/// CopyData ...) stays an opaque `Frame` and is forwarded as received.
public enum FrontendMessage: Sendable, Equatable {
    /// 'Q' Query: a simple query, one or more SQL statements.
    case query(String)
    /// 'X' Terminate: the client is leaving; close without reply.
    case terminate
    /// 'p' PasswordMessage: a cleartext password or an md5 response, without the trailing zero byte.
    case password([UInt8])
    /// 'p' SASLInitialResponse: the chosen mechanism and the client-first-message (nil when the length is -1).
    case saslInitialResponse(mechanism: String, data: [UInt8]?)
    /// 'p' SASLResponse: a later SASL message (client-final-message for SCRAM), raw.
    case saslResponse([UInt8])
    /// 'S' Sync: end of an extended-query batch; the server answers with ReadyForQuery.
    case sync
    /// 'H' Flush: the server should send what it has buffered.
    case flush

    /// 'p' is ambiguous on the wire, so the caller says what it expects.
    public enum PasswordContext: Sendable {
        /// After AuthenticationCleartextPassword or AuthenticationMD5Password: a PasswordMessage.
        case password
        /// After AuthenticationSASL: a SASLInitialResponse.
        case saslInitial
        /// After AuthenticationSASLContinue: a SASLResponse.
        case saslContinue
    }

    /// Decodes the frame if it is one of the types above, else returns nil (Parse, Bind, Execute, Describe, Close,
    /// CopyData ... stay opaque). Throws when the type is known but the body does not parse.
    public init?(frame: Frame, passwordContext: PasswordContext = .password) throws(WireError) {
        var body = frame.body
        switch frame.type {
        case .query:
            let query = try body.readCString("query string")  // String: the query
            try body.expectEnd(of: "query")
            self = .query(query)
        case .terminate:
            try body.expectEnd(of: "terminate")
            self = .terminate
        case .sync:
            try body.expectEnd(of: "sync")
            self = .sync
        case .flush:
            try body.expectEnd(of: "flush")
            self = .flush
        case .password:
            self = try FrontendMessage.decodePassword(body: body, context: passwordContext)
        default:
            return nil
        }
    }

    /// Decodes the three message kinds that share type 'p'.
    private static func decodePassword(
        body: ByteBuffer,
        context: PasswordContext
    ) throws(WireError) -> FrontendMessage {
        var body = body
        switch context {
        case .password:
            // String: the password; PostgreSQL requires the only zero byte to be the last one
            let view = body.readableBytesView
            guard let end = view.firstIndex(of: 0), end == view.index(before: view.endIndex) else {
                throw .malformed("invalid password packet size")
            }
            let password = body.readBytes(length: body.readableBytes - 1)!
            return .password(password)
        case .saslInitial:
            let mechanism = try body.readCString("sasl mechanism name")  // String: selected mechanism
            let length: Int32 = try body.readWireInteger("sasl initial response length")  // Int32: length, -1 = none
            let data: [UInt8]?
            if length == -1 {
                data = nil
            } else {
                data = try body.readWireBytes(length: Int(length), "sasl initial response")  // Byten: response
            }
            try body.expectEnd(of: "sasl initial response")
            return .saslInitialResponse(mechanism: mechanism, data: data)
        case .saslContinue:
            return .saslResponse(body.readBytes(length: body.readableBytes)!)  // Byten: SASL response data
        }
    }

    /// Writes the complete message, header included.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .query(let query):
            buffer.writeMessage(type: .query) { $0.writeCString(query) }  // String: the query
        case .terminate:
            buffer.writeMessage(type: .terminate) { _ in }
        case .password(let password):
            buffer.writeMessage(type: .password) { body in
                body.writeBytes(password)  // String: the password ...
                body.writeInteger(UInt8(0))  // ... and its terminator
            }
        case .saslInitialResponse(let mechanism, let data):
            buffer.writeMessage(type: .password) { body in
                body.writeCString(mechanism)  // String: selected mechanism
                if let data {
                    body.writeInteger(Int32(data.count))  // Int32: length of the response
                    body.writeBytes(data)  // Byten: client-first-message
                } else {
                    body.writeInteger(Int32(-1))  // Int32: -1 = no initial response
                }
            }
        case .saslResponse(let data):
            buffer.writeMessage(type: .password) { $0.writeBytes(data) }  // Byten: SASL response data
        case .sync:
            buffer.writeMessage(type: .sync) { _ in }
        case .flush:
            buffer.writeMessage(type: .flush) { _ in }
        }
    }
}
