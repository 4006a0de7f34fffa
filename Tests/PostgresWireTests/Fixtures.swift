import NIOCore
import PostgresWire

/// Byte-level helpers shared by the codec tests.
enum Fixtures {
    /// A buffer holding exactly these bytes.
    static func buffer(_ bytes: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }

    /// The bytes an encoder writes.
    static func encoded(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(&buffer)
        return buffer
    }

    /// A typed message: Byte1 type, Int32 length, body.
    static func message(_ type: MessageType, _ body: [UInt8] = []) -> [UInt8] {
        [type.rawValue] + int32(Int32(4 + body.count)) + body
    }

    /// Big-endian Int32 bytes.
    static func int32(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// A C string: UTF-8 bytes and a zero byte.
    static func cString(_ text: String) -> [UInt8] {
        Array(text.utf8) + [0]
    }

    /// Feeds `bytes` to a FrameDecoder in chunks of `chunkSize` (0 = all at once) and collects every frame.
    static func frames(
        _ bytes: [UInt8],
        chunkSize: Int = 0,
        maxMessageSize: Int = Int(Int32.max)
    ) throws(WireError) -> [Frame] {
        var decoder = FrameDecoder(maxMessageSize: maxMessageSize)
        var frames: [Frame] = []
        for chunk in chunks(bytes, size: chunkSize) {
            decoder.append(buffer(chunk))
            while let frame = try decoder.next() {
                frames.append(frame)
            }
        }
        return frames
    }

    /// Feeds `bytes` to a StartupDecoder in chunks of `chunkSize` (0 = all at once) and collects every packet.
    static func startupPackets(_ bytes: [UInt8], chunkSize: Int = 0) throws(WireError) -> [StartupPacket] {
        var decoder = StartupDecoder()
        var packets: [StartupPacket] = []
        for chunk in chunks(bytes, size: chunkSize) {
            decoder.append(buffer(chunk))
            while let packet = try decoder.next() {
                packets.append(packet)
            }
        }
        return packets
    }

    /// `bytes` cut into pieces of `size` bytes (the last may be shorter); one piece when `size` is 0.
    static func chunks(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
        guard size > 0 else {
            return [bytes]
        }
        return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }

    /// Start address of a buffer's readable bytes, to tell whether two buffers share storage.
    static func address(_ buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }
}
