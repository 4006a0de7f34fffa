import NIOCore

/// Splits the first bytes of a client connection into startup packets: StartupMessage, SSLRequest, GSSENCRequest,
/// CancelRequest.
///
/// Startup packets carry no type byte (Int32 length, Int32 code, payload). After a StartupMessage the client talks
/// in typed messages, so the caller takes whatever follows with `drain()` and feeds a `FrameDecoder`.
public struct StartupDecoder: Sendable {
    /// Largest startup packet accepted; PostgreSQL caps them at 10000 bytes.
    public let maxMessageSize: Int

    /// Bytes received and not yet returned; nil when empty, so the next read is kept as it is.
    private var buffer: ByteBuffer?

    /// Creates a decoder that rejects packets over `maxMessageSize` bytes.
    public init(maxMessageSize: Int = 10_000) {
        self.maxMessageSize = maxMessageSize
    }

    /// Adds received bytes. When the internal buffer is empty the incoming buffer is kept as-is (no copy).
    public mutating func append(_ incoming: ByteBuffer) {
        guard incoming.readableBytes > 0 else {
            return
        }
        guard self.buffer != nil else {
            self.buffer = incoming
            return
        }
        self.buffer!.writeImmutableBuffer(incoming)
    }

    /// Next packet, or nil if incomplete.
    ///
    /// Throws `invalidLength` for a length below 8 or over `maxMessageSize` (as soon as the length is in),
    /// `unsupportedProtocolVersion` for any code but the four known ones (2.0, 3.1 ...), and `malformed` for a
    /// special request of the wrong length or a StartupMessage without terminators or with an odd name/value list.
    public mutating func next() throws(WireError) -> StartupPacket? {
        guard let buffer = self.buffer, buffer.readableBytes >= 4 else {
            return nil
        }
        let start = buffer.readerIndex
        let length = buffer.getInteger(at: start, as: Int32.self)!  // Int32: length including itself
        guard length >= 8, Int(length) <= self.maxMessageSize else {
            throw .invalidLength(length, type: MessageType(rawValue: 0))  // a startup packet has no type byte
        }
        guard buffer.readableBytes >= Int(length) else {
            return nil
        }
        let code = buffer.getInteger(at: start + 4, as: Int32.self)!  // Int32: protocol version or request code
        var payload = buffer.getSlice(at: start + 8, length: Int(length) - 8)!
        let packet: StartupPacket
        switch code {
        case StartupPacket.Code.protocol3:
            packet = .startup(try StartupMessage(payload: payload))
        case StartupPacket.Code.sslRequest:
            try payload.expectEnd(of: "SSLRequest")
            packet = .sslRequest
        case StartupPacket.Code.gssEncRequest:
            try payload.expectEnd(of: "GSSENCRequest")
            packet = .gssEncRequest
        case StartupPacket.Code.cancelRequest:
            let processID: Int32 = try payload.readWireInteger("cancel request process ID")
            let secretKey: Int32 = try payload.readWireInteger("cancel request secret key")
            try payload.expectEnd(of: "CancelRequest")
            packet = .cancel(CancelRequest(processID: processID, secretKey: secretKey))
        default:
            // Int32 code: major version in the high 16 bits, minor in the low 16 bits
            throw .unsupportedProtocolVersion(
                major: UInt16(truncatingIfNeeded: code >> 16),
                minor: UInt16(truncatingIfNeeded: code)
            )
        }
        self.buffer!.moveReaderIndex(forwardBy: Int(length))
        if self.buffer!.readableBytes == 0 {
            self.buffer = nil
        }
        return packet
    }

    /// Bytes received after the last packet (e.g. a typed message pipelined after startup): hand them to a
    /// `FrameDecoder`. Nil when nothing is buffered.
    public mutating func drain() -> ByteBuffer? {
        defer { self.buffer = nil }
        return self.buffer
    }
}
