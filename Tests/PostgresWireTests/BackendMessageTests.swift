import NIOCore
import PostgresWire
import Testing

/// BackendMessage: the server messages the pooler acts on.
struct BackendMessageTests {
    /// One of every decoded case.
    static let all: [BackendMessage] = [
        .authentication(.ok),
        .authentication(.cleartextPassword),
        .authentication(.md5Password(salt: [0xDE, 0xAD, 0xBE, 0xEF])),
        .authentication(.sasl(mechanisms: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])),
        .authentication(.saslContinue(data: Array("r=abc,s=c2FsdA==,i=4096".utf8))),
        .authentication(.saslFinal(data: Array("v=c2lnbmF0dXJl".utf8))),
        .authentication(.other(code: 7)),
        .parameterStatus(name: "client_encoding", value: "UTF8"),
        .backendKeyData(CancelRequest(processID: 31_337, secretKey: -123_456)),
        .readyForQuery(.idle),
        .readyForQuery(.inTransaction),
        .readyForQuery(.failed),
        .errorResponse(ErrorResponse(severity: .error, code: .queryCanceled, message: "canceling statement")),
        .noticeResponse(ErrorResponse(severity: .notice, code: .successfulCompletion, message: "hello")),
    ]

    /// Decodes one complete message.
    static func decode(_ bytes: [UInt8]) throws(WireError) -> BackendMessage? {
        try BackendMessage(frame: Frame(bytes: Fixtures.buffer(bytes)))
    }

    /// Every case encodes, goes through the FrameDecoder byte by byte, and decodes to itself.
    @Test(arguments: BackendMessageTests.all)
    func roundTrip(message: BackendMessage) throws {
        let encoded = Fixtures.encoded { message.encode(into: &$0) }
        for chunkSize in [0, 1] {
            let frames = try Fixtures.frames(Array(encoded.readableBytesView), chunkSize: chunkSize)
            #expect(frames.count == 1)
            #expect(try BackendMessage(frame: frames[0]) == message)
        }
    }

    /// ReadyForQuery encodes to the exact six bytes PostgreSQL sends, which the fast path also reads.
    @Test func readyForQueryBytes() throws {
        let encoded = Fixtures.encoded { BackendMessage.readyForQuery(.inTransaction).encode(into: &$0) }
        #expect(Array(encoded.readableBytesView) == [MessageType.readyForQuery.rawValue, 0, 0, 0, 5, UInt8(ascii: "T")])
        #expect(Frame(bytes: encoded).readyForQueryStatus == .inTransaction)
    }

    /// AuthenticationMD5Password encodes code 5 and the 4 salt bytes.
    @Test func md5RequestBytes() {
        let encoded = Fixtures.encoded {
            BackendMessage.authentication(.md5Password(salt: [1, 2, 3, 4])).encode(into: &$0)
        }
        #expect(Array(encoded.readableBytesView) == Fixtures.message(.authentication, Fixtures.int32(5) + [1, 2, 3, 4]))
    }

    /// Messages the pooler does not act on stay opaque: DataRow, RowDescription, CommandComplete.
    @Test func otherTypesAreOpaque() throws {
        #expect(try Self.decode(Fixtures.message(.dataRow, [0, 0])) == nil)
        #expect(try Self.decode(Fixtures.message(.rowDescription, [0, 0])) == nil)
        #expect(try Self.decode(Fixtures.message(.commandComplete, Fixtures.cString("SELECT 1"))) == nil)
    }

    /// Known types with bodies that do not parse are malformed.
    @Test(arguments: [
        Fixtures.message(.readyForQuery, [UInt8(ascii: "Q")]),
        Fixtures.message(.readyForQuery, []),
        Fixtures.message(.readyForQuery, [UInt8(ascii: "I"), 0]),
        Fixtures.message(.backendKeyData, Fixtures.int32(1)),
        Fixtures.message(.parameterStatus, Fixtures.cString("client_encoding")),
        Fixtures.message(.authentication, [0, 0]),
        Fixtures.message(.authentication, Fixtures.int32(5) + [1, 2]),
        Fixtures.message(.authentication, Fixtures.int32(10) + Fixtures.cString("SCRAM-SHA-256")),
        Fixtures.message(.errorResponse, [UInt8(ascii: "S")] + Array("ERROR".utf8)),
    ])
    func malformedBodies(bytes: [UInt8]) {
        #expect(throws: WireError.self) { try Self.decode(bytes) }
    }

    /// AuthenticationGSSContinue (code 8) keeps only its code.
    @Test func unsupportedAuthenticationKeepsCode() throws {
        let bytes = Fixtures.message(.authentication, Fixtures.int32(8) + [1, 2, 3])
        #expect(try Self.decode(bytes) == .authentication(.other(code: 8)))
    }
}
