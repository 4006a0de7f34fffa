import NIOCore
import Testing

@testable import PostgresWire

/// Runs: several whole frames leave as one slice of the received bytes.
@Suite struct FrameDecoderRunTests {
    private func message(_ type: MessageType, _ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [type.rawValue]
        let length = Int32(4 + body.count)
        withUnsafeBytes(of: length.bigEndian) { bytes += $0 }
        return bytes + body
    }

    /// Three frames in one read are peeked one by one and taken as one slice sharing the read's storage.
    @Test func runOfWholeFramesIsOneSliceWithoutCopy() throws {
        let bytes =
            message(.rowDescription, [1, 2, 3]) + message(.dataRow, [4]) + message(.readyForQuery, [UInt8(ascii: "I")])
        let incoming = ByteBuffer(bytes: bytes)
        var decoder = FrameDecoder()
        decoder.append(incoming)
        var types: [MessageType] = []
        while let header = try decoder.peek() {
            types.append(header.type)
            decoder.extendRun(header)
        }
        #expect(types == [.rowDescription, .dataRow, .readyForQuery])
        let taken = decoder.takeRun()
        let run = try #require(taken)
        #expect(Array(run.readableBytesView) == bytes)
        let same = run.withUnsafeReadableBytes { r in incoming.withUnsafeReadableBytes { i in r.baseAddress == i.baseAddress } }
        #expect(same, "the run was copied")
        #expect(decoder.bufferedBytes == 0)
        let empty = decoder.takeRun()
        #expect(empty == nil)
    }

    /// ReadyForQuery's status is visible in the peeked header; a partial frame ends the run.
    @Test func peekShowsReadyForQueryStatusAndStopsAtPartialFrame() throws {
        let whole = message(.readyForQuery, [UInt8(ascii: "T")])
        let partial = Array(message(.dataRow, [9, 9, 9]).prefix(6))
        var decoder = FrameDecoder()
        decoder.append(ByteBuffer(bytes: whole + partial))
        let peeked = try decoder.peek()
        let header = try #require(peeked)
        #expect(header.readyForQueryStatus == .inTransaction)
        decoder.extendRun(header)
        let none = try decoder.peek()
        #expect(none == nil)
        let run = decoder.takeRun()
        #expect(run?.readableBytes == 6)
        decoder.append(ByteBuffer(bytes: Array(message(.dataRow, [9, 9, 9]).dropFirst(6))))
        let next = try decoder.next()
        #expect(next?.type == .dataRow)
    }

    /// peek validates lengths like next(): a zero length throws before anything is taken.
    @Test func peekRejectsInvalidLength() {
        var decoder = FrameDecoder()
        decoder.append(ByteBuffer(bytes: [MessageType.query.rawValue, 0, 0, 0, 0]))
        let decoded = decoder
        #expect(throws: WireError.invalidLength(0, type: .query)) { try decoded.peek() }
    }
}
