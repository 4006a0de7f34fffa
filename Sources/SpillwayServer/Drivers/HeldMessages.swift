import NIOCore
import PostgresWire

/// The messages a client sent while it waits for a server, kept in one buffer: one allocation per wait
/// rather than one per message (an extended-protocol batch is five), and none while nothing is held. The
/// frames are walked by their headers when they are forwarded, answered or replayed.
struct HeldMessages {
    private var buffer: ByteBuffer?

    var isEmpty: Bool { buffer == nil }

    /// Bytes held.
    var byteCount: Int { buffer?.readableBytes ?? 0 }

    /// Copies `frame` in (out of the loop's read buffer, which the next read reuses).
    mutating func append(_ frame: Frame) {
        if buffer == nil {
            buffer = ByteBufferAllocator().buffer(capacity: max(frame.bytes.readableBytes, 256))
        }
        buffer!.writeImmutableBuffer(frame.bytes)
    }

    /// The first message held, if any.
    var first: Frame? {
        guard let buffer, let length = buffer.getInteger(at: buffer.readerIndex + 1, as: Int32.self),
            let bytes = buffer.getSlice(at: buffer.readerIndex, length: 1 + Int(length))
        else { return nil }
        return Frame(bytes: bytes)
    }

    /// Every message held, in order (slices of the one buffer).
    var frames: [Frame] {
        var frames: [Frame] = []
        forEach { frames.append($0) }
        return frames
    }

    /// Calls `body` with each message held, in order.
    func forEach(_ body: (Frame) -> Void) {
        guard let buffer else { return }
        var offset = buffer.readerIndex
        let end = buffer.writerIndex
        while offset + 5 <= end, let length = buffer.getInteger(at: offset + 1, as: Int32.self), length >= 4,
            let bytes = buffer.getSlice(at: offset, length: 1 + Int(length))
        {
            body(Frame(bytes: bytes))
            offset += 1 + Int(length)
        }
    }

    /// The bytes held, all at once; nothing is held afterwards.
    mutating func take() -> ByteBuffer? {
        defer { buffer = nil }
        return buffer
    }

    mutating func removeAll() {
        buffer = nil
    }
}
