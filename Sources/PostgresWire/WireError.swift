/// Bytes from a peer that Spillway cannot take as a PostgreSQL protocol message.
///
/// Every case ends the connection: the stream is out of step once one message is wrong. `description` is the
/// primary message the client gets (lowercase, no final period) and `sqlState` its code.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The Int32 length field is below 4 (below 8 for a startup packet), negative, or for a startup packet over the
    /// limit. `type` is the message type, raw value 0 for a startup packet.
    case invalidLength(Int32, type: MessageType)
    /// The complete message, type byte included, would be `Int` bytes: over `limit` (`max_packet_size`).
    case messageTooLarge(Int, type: MessageType, limit: Int)
    /// The message body does not parse; the text says what is wrong, in lowercase.
    case malformed(String)
    /// A startup packet asked for a protocol version other than 3.0 (or an unknown request code).
    case unsupportedProtocolVersion(major: UInt16, minor: UInt16)

    /// The code to send with the error: 0A000 for an unsupported version, 08P01 for everything else.
    public var sqlState: SQLState {
        switch self {
        case .unsupportedProtocolVersion:
            return .featureNotSupported
        case .invalidLength, .messageTooLarge, .malformed:
            return .protocolViolation
        }
    }

    public var description: String {
        switch self {
        case .invalidLength(let length, let type) where type.rawValue == 0:
            return "invalid length \(length) for startup packet"
        case .invalidLength(let length, let type):
            return "invalid length \(length) for message type \(type)"
        case .messageTooLarge(let size, let type, let limit) where type.rawValue == 0:
            return "startup packet is \(size) bytes, over max_packet_size \(limit)"
        case .messageTooLarge(let size, let type, let limit):
            return "message of type \(type) is \(size) bytes, over max_packet_size \(limit)"
        case .malformed(let text):
            return text
        case .unsupportedProtocolVersion(let major, let minor):
            return "unsupported frontend protocol \(major).\(minor): server supports 3.0"
        }
    }

    /// The FATAL ErrorResponse to send a client before closing the connection because of this error.
    public var errorResponse: ErrorResponse {
        ErrorResponse(severity: .fatal, code: self.sqlState, message: self.description)
    }

    /// `'Q'` for a printable ASCII byte (a message, field or status type), `0xFE` otherwise, so a garbage byte
    /// never reaches a log raw. `MessageType.description` is this.
    static func name(ofType type: UInt8) -> String {
        if type >= 0x21 && type <= 0x7E {
            return "'\(Character(Unicode.Scalar(type)))'"
        }
        let digits: [Character] = Array("0123456789ABCDEF")
        return "0x\(digits[Int(type >> 4)])\(digits[Int(type & 0x0F)])"
    }
}
