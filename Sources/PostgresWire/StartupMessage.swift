import NIOCore

/// The first real message of a session: protocol 3.0 and the client's parameters (`user`, `database`,
/// `application_name`, `options`, any GUC, `_pq_.` extensions).
///
/// Wire form: Int32 length, Int32 196608, then { String name; String value } pairs, then a zero byte.
public struct StartupMessage: Sendable, Equatable {
    /// Parameters in the order the client sent them.
    public var parameters: [(name: String, value: String)]

    /// Wraps parameters in order.
    public init(parameters: [(name: String, value: String)]) {
        self.parameters = parameters
    }

    /// The value of the first parameter with this name, or nil.
    public subscript(name: String) -> String? {
        self.parameters.first(where: { $0.name == name })?.value
    }

    /// `user`: the role to log in as (required by PostgreSQL; checked by the caller).
    public var user: String? { self["user"] }

    /// `database`: nil when absent, and the caller falls back to `user` as PostgreSQL does.
    public var database: String? { self["database"] }

    /// Writes the complete packet: Int32 length, Int32 196608, name\0value\0 pairs, \0.
    public func encode(into buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))  // Int32: length including itself, patched below
        buffer.writeInteger(StartupPacket.Code.protocol3)  // Int32: protocol version 3.0
        for parameter in self.parameters {
            buffer.writeCString(parameter.name)  // String: parameter name
            buffer.writeCString(parameter.value)  // String: parameter value
        }
        buffer.writeInteger(UInt8(0))  // Byte1: terminator after the last pair
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex), at: lengthIndex)
    }

    /// Decodes the payload after the request code; the terminator must be the last byte, as PostgreSQL requires.
    init(payload: ByteBuffer) throws(WireError) {
        var payload = payload
        var parameters: [(name: String, value: String)] = []
        while true {
            guard let name = payload.readNullTerminatedString() else {
                throw .malformed("invalid startup packet layout: expected terminator as last byte")
            }
            if name.isEmpty {
                break  // the empty name is the terminating zero byte
            }
            guard let value = payload.readNullTerminatedString() else {
                throw .malformed("invalid startup packet layout: missing value for parameter \"\(name)\"")
            }
            parameters.append((name, value))
        }
        guard payload.readableBytes == 0 else {
            throw .malformed("invalid startup packet layout: expected terminator as last byte")
        }
        self.parameters = parameters
    }

    public static func == (lhs: StartupMessage, rhs: StartupMessage) -> Bool {
        lhs.parameters.count == rhs.parameters.count
            && zip(lhs.parameters, rhs.parameters).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
