import NIOCore
import PostgresWire

/// Builds the frames a server would send, through the codec's own encoders and frame decoder.
enum WireFrames {
    /// The frames of `messages`, in order.
    static func of(_ messages: [BackendMessage]) -> [Frame] {
        var buffer = ByteBuffer()
        for message in messages {
            message.encode(into: &buffer)
        }
        return split(buffer)
    }

    /// RowDescription, DataRows and CommandComplete of `result`.
    static func of(_ result: ResultSet) -> [Frame] {
        var buffer = ByteBuffer()
        result.encode(into: &buffer)
        return split(buffer)
    }

    /// One frame of type `type` with an empty body (EmptyQueryResponse; CopyInResponse is not empty, ...).
    static func empty(_ type: MessageType) -> Frame {
        Frame(type: type, body: ByteBuffer())
    }

    /// `bytes` cut into whole frames.
    private static func split(_ bytes: ByteBuffer) -> [Frame] {
        var decoder = FrameDecoder()
        decoder.append(bytes)
        var frames: [Frame] = []
        while let frame = try? decoder.next() {
            frames.append(frame)
        }
        return frames
    }
}
