import NIOCore
import PostgresWire
import Testing

/// FrameDecoder: splitting typed messages out of a byte stream.
struct FrameDecoderTests {
    /// A stream of several message types, as a server might send after a simple query.
    static let stream: [UInt8] =
        Fixtures.message(.rowDescription, [0, 0])
        + Fixtures.message(.dataRow, [0, 1] + Fixtures.int32(1) + [0x31])
        + Fixtures.message(.commandComplete, Fixtures.cString("SELECT 1"))
        + Fixtures.message(.readyForQuery, [UInt8(ascii: "I")])

    /// The stream fed one byte at a time, in odd chunks and all at once yields the same four frames.
    @Test(arguments: [0, 1, 2, 3, 5, 7, 100])
    func chunkingDoesNotChangeFrames(chunkSize: Int) throws {
        let frames = try Fixtures.frames(Self.stream, chunkSize: chunkSize)
        #expect(frames.map(\.type) == [.rowDescription, .dataRow, .commandComplete, .readyForQuery])
        #expect(frames.flatMap { Array($0.bytes.readableBytesView) } == Self.stream)
        #expect(frames == (try Fixtures.frames(Self.stream)))
    }

    /// Several frames in one buffer come out one per call, then nil.
    @Test func severalFramesInOneBuffer() throws {
        var decoder = FrameDecoder()
        let bytes = Fixtures.message(.sync) + Fixtures.message(.flush) + Fixtures.message(.terminate)
        decoder.append(Fixtures.buffer(bytes))
        #expect(try decoder.next()?.type == .sync)
        #expect(try decoder.next()?.type == .flush)
        #expect(try decoder.next()?.type == .terminate)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedBytes == 0)
    }

    /// A frame split across two appends is held back until its last byte arrives.
    @Test func frameSplitAcrossAppends() throws {
        let query = Fixtures.message(.query, Fixtures.cString("SELECT 1"))
        var decoder = FrameDecoder()
        decoder.append(Fixtures.buffer(Array(query[..<7])))
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedBytes == 7)
        decoder.append(Fixtures.buffer(Array(query[7...])))
        let next = try decoder.next()
        let frame = try #require(next)
        #expect(Array(frame.bytes.readableBytesView) == query)
        #expect(Array(frame.body.readableBytesView) == Fixtures.cString("SELECT 1"))
    }

    /// Length 0, 3 and -1 (0xFFFFFFFF) are refused with the message clients see.
    @Test(arguments: [Int32(0), 3, -1])
    func lengthBelowFourIsInvalid(length: Int32) {
        let bytes = [MessageType.query.rawValue] + Fixtures.int32(length)
        #expect(throws: WireError.invalidLength(length, type: .query)) {
            try Fixtures.frames(bytes)
        }
        #expect(throws: WireError.invalidLength(length, type: .query)) {
            try Fixtures.frames(bytes, chunkSize: 1)
        }
    }

    /// The invalid-length error reads exactly as in the style guide's table, with code 08P01.
    @Test func invalidLengthDescription() {
        let error = WireError.invalidLength(0, type: .query)
        #expect(error.description == "invalid length 0 for message type 'Q'")
        #expect(error.sqlState == .protocolViolation)
        #expect(
            WireError.invalidLength(-1, type: MessageType(rawValue: 1)).description
                == "invalid length -1 for message type 0x01")
        #expect(
            WireError.invalidLength(7, type: MessageType(rawValue: 0)).description
                == "invalid length 7 for startup packet")
    }

    /// A header announcing more than max_packet_size fails at once, without any byte of the body.
    @Test func oversizedMessageFailsBeforeBody() {
        let header = [MessageType.query.rawValue] + Fixtures.int32(1_000_000)
        var decoder = FrameDecoder(maxMessageSize: 100)
        decoder.append(Fixtures.buffer(header))
        #expect(throws: WireError.messageTooLarge(1_000_001, type: .query, limit: 100)) {
            try decoder.next()
        }
        #expect(
            WireError.messageTooLarge(123, type: .query, limit: 100).description
                == "message of type 'Q' is 123 bytes, over max_packet_size 100"
        )
    }

    /// A message exactly at max_packet_size (type byte included) is accepted.
    @Test func messageAtLimitIsAccepted() throws {
        let bytes = Fixtures.message(.query, Fixtures.cString("SELECT 1"))
        let frames = try Fixtures.frames(bytes, maxMessageSize: bytes.count)
        #expect(frames.count == 1)
        #expect(throws: WireError.self) { try Fixtures.frames(bytes, maxMessageSize: bytes.count - 1) }
    }

    /// Frames decoded from one complete buffer are slices of it: same storage, no copy.
    @Test func framesShareStorageWithReceivedBuffer() throws {
        let received = Fixtures.buffer(Self.stream)
        var decoder = FrameDecoder()
        decoder.append(received)
        var offset = 0
        while let frame = try decoder.next() {
            #expect(Fixtures.address(frame.bytes) == Fixtures.address(received) + UInt(offset))
            #expect(Fixtures.address(frame.body) == Fixtures.address(received) + UInt(offset + 5))
            offset += frame.bytes.readableBytes
        }
        #expect(offset == Self.stream.count)
    }

    /// drain() hands back the partial frame and leaves the decoder empty.
    @Test func drainReturnsBufferedBytes() throws {
        var decoder = FrameDecoder()
        decoder.append(Fixtures.buffer(Fixtures.message(.sync) + [MessageType.query.rawValue, 0, 0]))
        #expect(try decoder.next()?.type == .sync)
        #expect(decoder.bufferedBytes == 3)
        let drained = decoder.drain()
        let rest = try #require(drained)
        #expect(Array(rest.readableBytesView) == [MessageType.query.rawValue, 0, 0])
        #expect(decoder.bufferedBytes == 0)
        #expect(decoder.drain() == nil)
    }

    /// Frame(type:body:) builds the same bytes the decoder returns.
    @Test func frameBuiltFromTypeAndBody() {
        let frame = Frame(type: .commandComplete, body: Fixtures.buffer(Fixtures.cString("BEGIN")))
        #expect(Array(frame.bytes.readableBytesView) == Fixtures.message(.commandComplete, Fixtures.cString("BEGIN")))
        #expect(frame.type == .commandComplete)
        #expect(Array(frame.body.readableBytesView) == Fixtures.cString("BEGIN"))
    }

    /// readyForQueryStatus reads I, T and E and ignores other frames and bytes.
    @Test func readyForQueryFastPath() {
        func frame(_ bytes: [UInt8]) -> Frame { Frame(bytes: Fixtures.buffer(bytes)) }
        #expect(frame(Fixtures.message(.readyForQuery, [UInt8(ascii: "I")])).readyForQueryStatus == .idle)
        #expect(frame(Fixtures.message(.readyForQuery, [UInt8(ascii: "T")])).readyForQueryStatus == .inTransaction)
        #expect(frame(Fixtures.message(.readyForQuery, [UInt8(ascii: "E")])).readyForQueryStatus == .failed)
        #expect(frame(Fixtures.message(.readyForQuery, [UInt8(ascii: "X")])).readyForQueryStatus == nil)
        #expect(frame(Fixtures.message(.readyForQuery, [UInt8(ascii: "I"), 0])).readyForQueryStatus == nil)
        #expect(frame(Fixtures.message(.commandComplete, [UInt8(ascii: "I")])).readyForQueryStatus == nil)
    }
}
