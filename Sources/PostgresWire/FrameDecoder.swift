import NIOCore

/// Splits a byte stream into typed messages (everything after the startup phase, in both directions).
///
/// Each message is Byte1 type, Int32 length (counting itself, not the type), body. Frames come out as slices of the
/// received buffers; bytes are copied only when a message arrives split across reads.
public struct FrameDecoder: Sendable {
    /// Largest complete message accepted, type byte included (`max_packet_size`).
    public let maxMessageSize: Int

    /// Bytes received and not yet returned; nil when empty, so the next read is kept as it is.
    private var buffer: ByteBuffer?

    /// Bytes at the front of `buffer` already scanned as whole frames to pass on together (see `extendRun`).
    private var runLength = 0

    /// Creates a decoder that rejects messages over `maxMessageSize` bytes.
    public init(maxMessageSize: Int = Int(Int32.max)) {
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
        // Reclaim consumed space before growing, once it is at least as large as what is left to move.
        if self.buffer!.readerIndex >= self.buffer!.readableBytes {
            self.buffer!.discardReadBytes()
        }
        self.buffer!.writeImmutableBuffer(incoming)
    }

    /// Next complete frame as a slice, or nil when more bytes are needed.
    ///
    /// Throws `WireError.invalidLength` for a length below 4 (the Int32 read as signed, so negative included) and
    /// `WireError.messageTooLarge` when 1 + length exceeds `maxMessageSize`, as soon as the 5-byte header is in:
    /// before any byte of the body is waited for or allocated.
    public mutating func next() throws(WireError) -> Frame? {
        precondition(runLength == 0, "take the run before decoding a frame")
        guard let buffer = self.buffer, buffer.readableBytes >= 5 else {
            return nil
        }
        let start = buffer.readerIndex
        let type = MessageType(rawValue: buffer.getInteger(at: start, as: UInt8.self)!)  // Byte1: message type
        let length = buffer.getInteger(at: start + 1, as: Int32.self)!  // Int32: length including itself
        guard length >= 4 else {
            throw .invalidLength(length, type: type)
        }
        let size = 1 + Int(length)
        guard size <= self.maxMessageSize else {
            throw .messageTooLarge(size, type: type, limit: self.maxMessageSize)
        }
        guard buffer.readableBytes >= size else {
            return nil
        }
        let bytes = self.buffer!.readSlice(length: size)!
        if self.buffer!.readableBytes == 0 {
            self.buffer = nil  // drop our reference so the storage goes with the last frame
        }
        return Frame(bytes: bytes)
    }

    // MARK: Runs: forwarding without slicing each frame

    /// The header of the next complete frame after the current run, without consuming it; nil when more bytes
    /// are needed. Validates the length exactly as `next()` does.
    @inline(__always)
    public func peek() throws(WireError) -> FrameHeader? {
        guard let buffer = self.buffer, buffer.readableBytes - runLength >= 5 else {
            return nil
        }
        let start = buffer.readerIndex + runLength
        let type = MessageType(rawValue: buffer.getInteger(at: start, as: UInt8.self)!)  // Byte1: message type
        let length = buffer.getInteger(at: start + 1, as: Int32.self)!  // Int32: length including itself
        guard length >= 4 else {
            throw .invalidLength(length, type: type)
        }
        let size = 1 + Int(length)
        guard size <= self.maxMessageSize else {
            throw .messageTooLarge(size, type: type, limit: self.maxMessageSize)
        }
        guard buffer.readableBytes - runLength >= size else {
            return nil
        }
        return FrameHeader(type: type, size: size, firstBodyByte: size > 5 ? buffer.getInteger(at: start + 5) : nil)
    }

    /// Up to `limit` bytes of the body of the frame `peek()` just returned (before `extendRun`), as a slice
    /// of the received bytes: no copy.
    public func peekBody(_ header: FrameHeader, upTo limit: Int) -> ByteBuffer? {
        guard let buffer = self.buffer, header.size > 5 else { return nil }
        return buffer.getSlice(at: buffer.readerIndex + runLength + 5, length: min(header.size - 5, limit))
    }

    /// Adds the frame `peek()` returned to the run: it will leave with `takeRun()`, in one slice with its
    /// neighbours.
    @inline(__always)
    public mutating func extendRun(_ header: FrameHeader) {
        runLength += header.size
    }

    /// The frames added with `extendRun` as one slice of the received bytes; nil when the run is empty.
    @inline(__always)
    public mutating func takeRun() -> ByteBuffer? {
        guard runLength > 0 else { return nil }
        let run = self.buffer!.readSlice(length: runLength)!
        runLength = 0
        if self.buffer!.readableBytes == 0 {
            self.buffer = nil
        }
        return run
    }

    /// Bytes buffered and not yet returned.
    public var bufferedBytes: Int {
        self.buffer?.readableBytes ?? 0
    }

    /// Removes and returns everything buffered (used when a connection changes hands); nil when nothing is.
    public mutating func drain() -> ByteBuffer? {
        defer {
            self.buffer = nil
            self.runLength = 0
        }
        return self.buffer
    }
}

/// Type and size of a complete frame seen by `FrameDecoder.peek()`.
public struct FrameHeader: Sendable, Equatable {
    /// Byte1: the message type.
    public var type: MessageType
    /// The whole message: type byte, length field and body.
    public var size: Int
    /// The body's first byte, when there is one (ReadyForQuery's status).
    public var firstBodyByte: UInt8?

    public init(type: MessageType, size: Int, firstBodyByte: UInt8?) {
        self.type = type
        self.size = size
        self.firstBodyByte = firstBodyByte
    }

    /// The status of a ReadyForQuery ('Z', length 5); nil for any other frame.
    @inline(__always)
    public var readyForQueryStatus: TransactionStatus? {
        guard type == .readyForQuery, size == 6, let byte = firstBodyByte else { return nil }
        return TransactionStatus(rawValue: byte)
    }
}
