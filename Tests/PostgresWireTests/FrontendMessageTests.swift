import NIOCore
import PostgresWire
import Testing

/// FrontendMessage: the client messages the pooler acts on.
struct FrontendMessageTests {
    /// One of every decoded case, with the password context it is read in.
    static let all: [(FrontendMessage, FrontendMessage.PasswordContext)] = [
        (.query("SELECT 1; SELECT 'two'"), .password),
        (.query(""), .password),
        (.terminate, .password),
        (.sync, .password),
        (.flush, .password),
        (.password(Array("md5c546d0bbed2af888b328536b45c76348".utf8)), .password),
        (.password([]), .password),
        (.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: Array("n,,n=,r=abc".utf8)), .saslInitial),
        (.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: nil), .saslInitial),
        (.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: []), .saslInitial),
        (.saslResponse(Array("c=biws,r=abc,p=cHJvb2Y=".utf8)), .saslContinue),
        (.saslResponse([]), .saslContinue),
    ]

    /// Decodes one complete message.
    static func decode(
        _ bytes: [UInt8],
        _ context: FrontendMessage.PasswordContext = .password
    ) throws(WireError) -> FrontendMessage? {
        try FrontendMessage(frame: Frame(bytes: Fixtures.buffer(bytes)), passwordContext: context)
    }

    /// Every case encodes, goes through the FrameDecoder byte by byte, and decodes to itself.
    @Test(arguments: FrontendMessageTests.all)
    func roundTrip(message: FrontendMessage, context: FrontendMessage.PasswordContext) throws {
        let encoded = Fixtures.encoded { message.encode(into: &$0) }
        for chunkSize in [0, 1] {
            let frames = try Fixtures.frames(Array(encoded.readableBytesView), chunkSize: chunkSize)
            #expect(frames.count == 1)
            #expect(try FrontendMessage(frame: frames[0], passwordContext: context) == message)
        }
    }

    /// Query and Terminate encode to the bytes psql sends.
    @Test func wireBytes() {
        let query = Fixtures.encoded { FrontendMessage.query("BEGIN").encode(into: &$0) }
        #expect(Array(query.readableBytesView) == Fixtures.message(.query, Fixtures.cString("BEGIN")))
        let terminate = Fixtures.encoded { FrontendMessage.terminate.encode(into: &$0) }
        #expect(Array(terminate.readableBytesView) == [MessageType.terminate.rawValue, 0, 0, 0, 4])
    }

    /// SASLInitialResponse without data carries length -1.
    @Test func saslInitialWithoutDataBytes() {
        let encoded = Fixtures.encoded {
            FrontendMessage.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: nil).encode(into: &$0)
        }
        #expect(
            Array(encoded.readableBytesView)
                == Fixtures.message(.password, Fixtures.cString("SCRAM-SHA-256") + Fixtures.int32(-1))
        )
    }

    /// The same 'p' bytes read as a PasswordMessage or as a SASLResponse, as the caller says.
    @Test func passwordContextDecidesMeaning() throws {
        let bytes = Fixtures.message(.password, Fixtures.cString("secret"))
        #expect(try Self.decode(bytes, .password) == .password(Array("secret".utf8)))
        #expect(try Self.decode(bytes, .saslContinue) == .saslResponse(Fixtures.cString("secret")))
    }

    /// Extended-protocol and COPY messages stay opaque.
    @Test(arguments: [
        MessageType.parse, .bind, .execute, .describe, .close, .copyData, .copyDone, .copyFail, .functionCall,
    ])
    func otherTypesAreOpaque(type: MessageType) throws {
        #expect(try Self.decode(Fixtures.message(type, [0])) == nil)
    }

    /// Known types with bodies that do not parse are malformed.
    @Test(arguments: [
        (Fixtures.message(.query, Array("SELECT 1".utf8)), FrontendMessage.PasswordContext.password),
        (Fixtures.message(.query, Fixtures.cString("SELECT 1") + [1]), .password),
        (Fixtures.message(.terminate, [0]), .password),
        (Fixtures.message(.sync, [0]), .password),
        (Fixtures.message(.flush, [0]), .password),
        (Fixtures.message(.password, Array("secret".utf8)), .password),
        (Fixtures.message(.password, Fixtures.cString("sec") + Fixtures.cString("ret")), .password),
        (Fixtures.message(.password, []), .password),
        (Fixtures.message(.password, Fixtures.cString("SCRAM-SHA-256")), .saslInitial),
        (Fixtures.message(.password, Fixtures.cString("SCRAM-SHA-256") + Fixtures.int32(5) + [1]), .saslInitial),
        (Fixtures.message(.password, Fixtures.cString("SCRAM-SHA-256") + Fixtures.int32(-2)), .saslInitial),
        (Fixtures.message(.password, Fixtures.cString("SCRAM-SHA-256") + Fixtures.int32(-1) + [1]), .saslInitial),
    ])
    func malformedBodies(bytes: [UInt8], context: FrontendMessage.PasswordContext) {
        #expect(throws: WireError.self) { try Self.decode(bytes, context) }
    }
}
