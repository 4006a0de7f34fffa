import NIOCore
import PostgresWire
import Testing

/// MessageType: PostgreSQL's message names on PostgreSQL's type bytes.
struct MessageTypeTests {
    /// Every message the server sends, with its byte as in PostgreSQL's "Message Formats".
    static let backend: [(name: String, type: MessageType, byte: Character)] = [
        ("Authentication", .authentication, "R"),
        ("BackendKeyData", .backendKeyData, "K"),
        ("BindComplete", .bindComplete, "2"),
        ("CloseComplete", .closeComplete, "3"),
        ("CommandComplete", .commandComplete, "C"),
        ("CopyData", .copyData, "d"),
        ("CopyDone", .copyDone, "c"),
        ("CopyInResponse", .copyInResponse, "G"),
        ("CopyOutResponse", .copyOutResponse, "H"),
        ("CopyBothResponse", .copyBothResponse, "W"),
        ("DataRow", .dataRow, "D"),
        ("EmptyQueryResponse", .emptyQueryResponse, "I"),
        ("ErrorResponse", .errorResponse, "E"),
        ("FunctionCallResponse", .functionCallResponse, "V"),
        ("NegotiateProtocolVersion", .negotiateProtocolVersion, "v"),
        ("NoData", .noData, "n"),
        ("NoticeResponse", .noticeResponse, "N"),
        ("NotificationResponse", .notificationResponse, "A"),
        ("ParameterDescription", .parameterDescription, "t"),
        ("ParameterStatus", .parameterStatus, "S"),
        ("ParseComplete", .parseComplete, "1"),
        ("PortalSuspended", .portalSuspended, "s"),
        ("ReadyForQuery", .readyForQuery, "Z"),
        ("RowDescription", .rowDescription, "T"),
    ]

    /// Every message the client sends after startup.
    static let frontend: [(name: String, type: MessageType, byte: Character)] = [
        ("Bind", .bind, "B"),
        ("Close", .close, "C"),
        ("CopyData", .copyData, "d"),
        ("CopyDone", .copyDone, "c"),
        ("CopyFail", .copyFail, "f"),
        ("Describe", .describe, "D"),
        ("Execute", .execute, "E"),
        ("Flush", .flush, "H"),
        ("FunctionCall", .functionCall, "F"),
        ("Parse", .parse, "P"),
        ("PasswordMessage", .password, "p"),
        ("Query", .query, "Q"),
        ("Sync", .sync, "S"),
        ("Terminate", .terminate, "X"),
    ]

    /// Each constant holds the byte PostgreSQL gives its message, and describes itself as that character quoted.
    @Test func constantsHavePostgreSQLsBytes() {
        for (name, type, byte) in Self.backend + Self.frontend {
            #expect(type.rawValue == byte.asciiValue, "\(name)")
            #expect(type.description == "'\(byte)'", "\(name)")
        }
    }

    /// Within one direction no two messages share a byte; across directions only the documented ones do.
    @Test func bytesAreUniquePerDirection() {
        #expect(Set(Self.backend.map(\.type)).count == Self.backend.count)
        #expect(Set(Self.frontend.map(\.type)).count == Self.frontend.count)
        let shared = Set(Self.backend.map(\.type)).intersection(Self.frontend.map(\.type))
        let documented: Set<MessageType> = [
            .commandComplete, .copyData, .copyDone, .copyOutResponse, .dataRow, .errorResponse, .parameterStatus,
        ]
        #expect(shared == documented)
        #expect(MessageType.close == .commandComplete && MessageType.flush == .copyOutResponse)
        #expect(MessageType.describe == .dataRow && MessageType.execute == .errorResponse)
        #expect(MessageType.sync == .parameterStatus)
    }

    /// A byte that is not printable ASCII is described in hex, never raw.
    @Test func unprintableByteIsDescribedInHex() {
        #expect(MessageType(rawValue: 0xFE).description == "0xFE")
        #expect(MessageType(rawValue: 0x01).description == "0x01")
        #expect(MessageType(rawValue: 0x20).description == "0x20")
    }

    /// Frame(type:body:) keeps the type and body it was given, for every message type.
    @Test func frameRoundTripsType() {
        let body = ByteBuffer(bytes: Fixtures.cString("BEGIN"))
        for (name, type, _) in Self.backend + Self.frontend {
            let frame = Frame(type: type, body: body)
            #expect(frame.type == type, "\(name)")
            #expect(frame.body == body, "\(name)")
            #expect(Array(frame.bytes.readableBytesView) == Fixtures.message(type, Fixtures.cString("BEGIN")))
        }
    }
}
