import NIOCore
import PostgresWire
import SpillwayCore
import Testing

@testable import SpillwayServer

/// A client's way in on the engine, over its Unix socket: startup packets, md5, refusals, malformed input.
@Suite(.serialized) final class ClientStartupTests {
    let harness: PlaneHarness

    init() throws {
        harness = try PlaneHarness()
    }

    private func startup(_ parameters: [(String, String)]) -> ByteBuffer {
        var buffer = ByteBuffer()
        StartupMessage(parameters: parameters.map { (name: $0.0, value: $0.1) }).encode(into: &buffer)
        return buffer
    }

    private func packet(code: Int32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(code)
        return buffer
    }

    private func error(in frames: [Frame]) throws -> ErrorResponse? {
        guard let frame = frames.first(where: { $0.type == .errorResponse }) else { return nil }
        return try ErrorResponse(body: frame.body)
    }

    /// SSLRequest and GSSENCRequest are answered 'N' and the client may go on in plain text.
    @Test(arguments: [StartupPacket.Code.sslRequest, StartupPacket.Code.gssEncRequest])
    func encryptionRequestsAreAnsweredN(code: Int32) throws {
        let plane = try harness.start()
        defer { plane.shutdown() }
        let client = try harness.client(plane)
        try client.send(packet(code: code))
        #expect(try client.readBytes(1) == [UInt8(ascii: "N")])
        #expect(try client.login().status == .idle, "the login goes on in plain text")
    }

    /// Protocol 2.0 gets FATAL 0A000 naming the version, and the connection closes.
    @Test func unsupportedProtocolVersionIsRefused() throws {
        let plane = try harness.start()
        defer { plane.shutdown() }
        let client = try harness.client(plane)
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(Int32(2 << 16))
        try client.send(buffer)
        let error = try error(in: client.read(until: { _ in false }))
        #expect(error?.code == .featureNotSupported)
        #expect(error?.severity == "FATAL")
        #expect(error?.message?.contains("2.0") == true)
        #expect(client.isClosedByServer())
    }

    /// A startup packet with an impossible length closes that client with 08P01, and the next client logs in.
    @Test func invalidStartupLengthIsAProtocolViolation() throws {
        let plane = try harness.start()
        defer { plane.shutdown() }
        let client = try harness.client(plane)
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(4))
        buffer.writeInteger(Int32(0))
        try client.send(buffer)
        #expect(try error(in: client.read(until: { _ in false }))?.code == .protocolViolation)
        #expect(client.isClosedByServer())
        #expect(try harness.client(plane).login().status == .idle)
    }

    /// An unknown startup parameter is refused with 08P01 and a hint naming ignore_startup_parameters.
    @Test func unknownStartupParameterIsRefusedUnlessIgnored() throws {
        let refusing = try harness.start(passwords: ["alice": "pw"])
        let refused = try harness.client(refusing)
        try refused.send(startup([("user", "alice"), ("database", "app"), ("extra_float_digits", "3")]))
        let error = try error(in: refused.read(until: { _ in false }))
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "unsupported startup parameter: extra_float_digits")
        #expect(error?.hint?.contains("ignore_startup_parameters") == true)
        refusing.shutdown()

        let allowing = try harness.start("ignore_startup_parameters = extra_float_digits", passwords: ["alice": "pw"])
        defer { allowing.shutdown() }
        let login = try harness.client(allowing).md5Login(
            user: "alice", password: "pw", database: "app", extra: [("extra_float_digits", "3")])
        #expect(login.status == .idle, "\(login.types)")
    }

    /// md5 login with a wrong password and with an unknown user: the same 28P01 after the same exchange.
    @Test(arguments: ["alice", "mallory"])
    func wrongPasswordAndUnknownUserLookTheSame(user: String) throws {
        let plane = try harness.start(passwords: ["alice": "secret"])
        defer { plane.shutdown() }
        let client = try harness.client(plane)
        let reply = try client.md5Login(user: user, password: "guess", database: "app")
        #expect(reply.first?.type == .errorResponse, "the md5 exchange happened first: \(reply.types)")
        let error = try error(in: reply)
        #expect(error?.code == .invalidPassword)
        #expect(error?.message == "password authentication failed for user \"\(user)\"")
        #expect(client.isClosedByServer())
    }

    /// The right md5 password to an unknown database: 3D000 naming the database.
    @Test func unknownDatabaseAfterLoginIs3D000() throws {
        let plane = try harness.start(passwords: ["alice": "secret"])
        defer { plane.shutdown() }
        let reply = try harness.client(plane).md5Login(user: "alice", password: "secret", database: "orders")
        #expect(reply.first.flatMap { try? BackendMessage(frame: $0) } == .authentication(.ok))
        let error = try error(in: reply)
        #expect(error?.code == .invalidCatalogName)
        #expect(error?.message == "no such database: \"orders\"")
    }

    /// Over max_client_conn, a new client gets FATAL 53300 naming the limit.
    @Test func clientsOverMaxClientConnAreRefused() throws {
        let plane = try harness.start("max_client_conn = 1", passwords: ["alice": "secret"])
        defer { plane.shutdown() }
        let first = try harness.client(plane)
        #expect(try first.md5Login(user: "alice", password: "secret", database: "app").status == .idle)
        let second = try harness.client(plane)
        try second.send(startup([("user", "alice"), ("database", "app")]))
        let error = try error(in: second.read(until: { _ in false }))
        #expect(error?.code == .tooManyConnections)
        #expect(error?.message == "no more connections allowed (max_client_conn)")
    }

    /// A typed message with length 0 during login: that client is closed with the exact length message.
    @Test func malformedFrameDuringLoginClosesOnlyThatClient() throws {
        let plane = try harness.start(passwords: ["alice": "secret"])
        defer { plane.shutdown() }
        let client = try harness.client(plane)
        try client.send(startup([("user", "alice"), ("database", "app")]))
        _ = try client.read(until: { $0.type == .authentication })
        var bad = ByteBuffer()
        bad.writeInteger(MessageType.password.rawValue)
        bad.writeInteger(Int32(0))
        try client.send(bad)
        let error = try error(in: client.read(until: { _ in false }))
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "invalid length 0 for message type 'p'")
        #expect(client.isClosedByServer())
        #expect(try harness.client(plane).md5Login(user: "alice", password: "secret", database: "app").status == .idle)
    }
}
