import NIOCore
import PostgresWire
import Testing

/// ErrorResponse and NoticeResponse fields, and the SQLState and WireError values behind them.
struct ErrorResponseTests {
    /// An error with every documented field, in PostgreSQL's order, plus one unknown field type.
    static let full = ErrorResponse(fields: [
        (UInt8(ascii: "S"), "ERREUR"),
        (UInt8(ascii: "V"), "ERROR"),
        (UInt8(ascii: "C"), "42P01"),
        (UInt8(ascii: "M"), "relation \"missing\" does not exist"),
        (UInt8(ascii: "D"), "Nothing is there."),
        (UInt8(ascii: "H"), "Create it first."),
        (UInt8(ascii: "P"), "15"),
        (UInt8(ascii: "p"), "3"),
        (UInt8(ascii: "q"), "SELECT 1"),
        (UInt8(ascii: "W"), "PL/pgSQL function f() line 3"),
        (UInt8(ascii: "s"), "public"),
        (UInt8(ascii: "t"), "missing"),
        (UInt8(ascii: "c"), "id"),
        (UInt8(ascii: "d"), "int4"),
        (UInt8(ascii: "n"), "missing_pkey"),
        (UInt8(ascii: "F"), "parse_relation.c"),
        (UInt8(ascii: "L"), "1392"),
        (UInt8(ascii: "R"), "parserOpenTable"),
        (UInt8(ascii: "Z"), "a field type from the future"),
    ])

    /// Every field survives encode and decode, in order, through the FrameDecoder byte by byte.
    @Test(arguments: [0, 1])
    func allFieldsRoundTrip(chunkSize: Int) throws {
        let encoded = Fixtures.encoded { Self.full.encode(into: &$0) }
        let frames = try Fixtures.frames(Array(encoded.readableBytesView), chunkSize: chunkSize)
        #expect(frames.count == 1)
        #expect(frames[0].type == .errorResponse)
        let decoded = try ErrorResponse(body: frames[0].body)
        #expect(decoded == Self.full)
        #expect(decoded.severity == "ERROR")
        #expect(decoded.code == SQLState("42P01"))
        #expect(decoded.message == "relation \"missing\" does not exist")
        #expect(decoded.detail == "Nothing is there.")
        #expect(decoded.hint == "Create it first.")
        #expect(decoded[UInt8(ascii: "R")] == "parserOpenTable")
        #expect(decoded[UInt8(ascii: "X")] == nil)
    }

    /// The convenience initializer writes S, V, C, M, D and H and encodes as a NoticeResponse on request.
    @Test func convenienceFieldsAndNoticeType() throws {
        let notice = ErrorResponse(
            severity: .warning,
            code: .activeSQLTransaction,
            message: "there is already a transaction in progress",
            hint: "Commit first."
        )
        #expect(notice.fields.map(\.type) == Array("SVCMH".utf8))
        #expect(notice.detail == nil)
        let encoded = Fixtures.encoded { notice.encode(into: &$0, type: .noticeResponse) }
        let frame = Frame(bytes: encoded)
        #expect(frame.type == .noticeResponse)
        #expect(try ErrorResponse(body: frame.body) == notice)
    }

    /// The exact bytes of a FATAL error Spillway sends.
    @Test func wireBytes() {
        let error = ErrorResponse(severity: .fatal, code: .tooManyConnections, message: "no more connections allowed")
        let encoded = Fixtures.encoded { error.encode(into: &$0) }
        let body =
            [UInt8(ascii: "S")] + Fixtures.cString("FATAL") + [UInt8(ascii: "V")] + Fixtures.cString("FATAL")
            + [UInt8(ascii: "C")] + Fixtures.cString("53300") + [UInt8(ascii: "M")]
            + Fixtures.cString("no more connections allowed") + [0]
        #expect(Array(encoded.readableBytesView) == Fixtures.message(.errorResponse, body))
    }

    /// A zero byte inside a field value is cut there on encode, so the stream stays in step.
    @Test func zeroByteInValueCannotBreakFraming() throws {
        let error = ErrorResponse(severity: .error, code: .invalidCatalogName, message: "no such database: \"a\u{0}b\"")
        let encoded = Fixtures.encoded { error.encode(into: &$0) }
        let frames = try Fixtures.frames(Array(encoded.readableBytesView))
        #expect(frames.count == 1)
        #expect(try ErrorResponse(body: frames[0].body).message == "no such database: \"a")
    }

    /// Severity falls back to the localized 'S' field when 'V' is absent (servers before 9.6).
    @Test func severityFallsBackToLocalized() {
        let old = ErrorResponse(fields: [(UInt8(ascii: "S"), "FEHLER"), (UInt8(ascii: "M"), "x")])
        #expect(old.severity == "FEHLER")
        #expect(old.code == nil)
    }

    /// The subscript setter replaces, appends and removes fields.
    @Test func subscriptSetter() {
        var error = ErrorResponse(severity: .error, code: .internalError, message: "a")
        error[UInt8(ascii: "M")] = "b"
        error[UInt8(ascii: "D")] = "Detail."
        error[UInt8(ascii: "S")] = nil
        #expect(error.fields.map(\.type) == Array("VCMD".utf8))
        #expect(error.message == "b")
        #expect(error.detail == "Detail.")
    }

    /// Equality looks at field order and values.
    @Test func equalityIsOrdered() {
        let a = ErrorResponse(fields: [(1, "x"), (2, "y")])
        #expect(a == ErrorResponse(fields: [(1, "x"), (2, "y")]))
        #expect(a != ErrorResponse(fields: [(2, "y"), (1, "x")]))
        #expect(a != ErrorResponse(fields: [(1, "x")]))
    }

    /// Bodies without the final zero byte or with bytes after it are malformed.
    @Test(arguments: [
        [UInt8(ascii: "M")] + Fixtures.cString("x"),
        [UInt8(ascii: "M")] + Array("x".utf8),
        [UInt8(ascii: "M")] + Fixtures.cString("x") + [0, 0],
        [],
    ])
    func malformedBodies(body: [UInt8]) {
        #expect(throws: WireError.self) { try ErrorResponse(body: Fixtures.buffer(body)) }
    }

    /// An empty field list (just the terminator) is valid.
    @Test func emptyFieldList() throws {
        #expect(try ErrorResponse(body: Fixtures.buffer([0])) == ErrorResponse(fields: []))
    }

    /// SQLState constants carry their codes and print as them.
    @Test func sqlStateCodes() {
        #expect(SQLState.protocolViolation.rawValue == "08P01")
        #expect(SQLState.idleInTransactionSessionTimeout.description == "25P03")
        #expect(SQLState(rawValue: "57014") == .queryCanceled)
        #expect(SQLState.adminShutdown.errorClass == "57")
    }

    /// A WireError turns into the FATAL ErrorResponse a client gets before the close.
    @Test func wireErrorAsErrorResponse() {
        let response = WireError.invalidLength(0, type: .query).errorResponse
        #expect(response.severity == "FATAL")
        #expect(response.code == .protocolViolation)
        #expect(response.message == "invalid length 0 for message type 'Q'")
        #expect(WireError.malformed("bad bytes").description == "bad bytes")
        #expect(
            WireError.unsupportedProtocolVersion(major: 2, minor: 0).description
                == "unsupported frontend protocol 2.0: server supports 3.0"
        )
    }
}
