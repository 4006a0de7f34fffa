import NIOCore

/// One typed protocol message as received: `bytes` is the complete message (Byte1 type, Int32 length, body), a
/// slice of the received buffer (never copied).
///
/// Spillway forwards most frames untouched, so a frame keeps its bytes rather than a parsed form; `BackendMessage`
/// and `FrontendMessage` decode the few types the pooler acts on.
public struct Frame: Sendable, Equatable {
    /// The complete message, header included.
    public var bytes: ByteBuffer

    /// Wraps a complete message. The length field is not checked again: `FrameDecoder` did that.
    public init(bytes: ByteBuffer) {
        precondition(bytes.readableBytes >= 5, "a frame holds at least the 5-byte header")
        self.bytes = bytes
    }

    /// Builds a frame from a message type and a body (allocates; for tests and for messages Spillway creates).
    public init(type: MessageType, body: ByteBuffer) {
        var bytes = ByteBufferAllocator().buffer(capacity: 5 + body.readableBytes)
        bytes.writeMessage(type: type) { $0.writeImmutableBuffer(body) }
        self.bytes = bytes
    }

    /// Byte1: the message type, e.g. `.query` or `.readyForQuery`.
    public var type: MessageType {
        MessageType(rawValue: self.bytes.getInteger(at: self.bytes.readerIndex, as: UInt8.self)!)
    }

    /// The body: everything after Byte1 type and Int32 length, as a slice.
    public var body: ByteBuffer {
        self.bytes.getSlice(at: self.bytes.readerIndex + 5, length: self.bytes.readableBytes - 5)!
    }
}

extension Frame {
    /// Fast path: the status of a ReadyForQuery frame without building an enum ('Z', length 5, one status byte);
    /// nil for any other frame or a status byte that is not I, T or E.
    public var readyForQueryStatus: TransactionStatus? {
        let start = self.bytes.readerIndex
        guard self.bytes.readableBytes == 6,
            self.bytes.getInteger(at: start, as: UInt8.self) == MessageType.readyForQuery.rawValue,
            self.bytes.getInteger(at: start + 1, as: Int32.self) == 5,  // Int32: length 5
            let status = self.bytes.getInteger(at: start + 5, as: UInt8.self)  // Byte1: transaction status
        else {
            return nil
        }
        return TransactionStatus(rawValue: status)
    }
}
