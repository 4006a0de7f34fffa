import Logging
import NIOCore
import NIOEmbedded
import PostgresWire
import SpillwayCore
import Testing

@testable import SpillwayServer

/// The client handler's startup phase on an EmbeddedChannel: bytes in, writes out, no sockets.
@Suite final class ClientStartupTests {
    /// A client handler on an embedded channel, with `ini` as its configuration.
    private func makeChannel(_ ini: String = "", passwords: [String: String] = [:]) throws -> EmbeddedChannel {
        let text = """
            [databases]
            app = host=127.0.0.1 port=1 dbname=app
            [pgbouncer]
            auth_type = md5
            \(ini)
            """
        let config = try Config.parse(text, file: "test.ini")
        let loop = EmbeddedEventLoop()
        let executor = PoolExecutor(
            loops: [loop], config: RuntimeConfig(config: config, userList: UserList(passwords: passwords)),
            logger: Logger(label: "test"))
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(ClientConnection(executor: executor, loop: loop, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5555)).wait()
        // Executor and handler live as long as the channel's pipeline holds the handler; keep the executor too.
        executors.append(executor)
        return channel
    }

    private var executors: [PoolExecutor] = []

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

    /// Everything the handler wrote, as backend frames.
    private func frames(_ channel: EmbeddedChannel) throws -> [Frame] {
        var decoder = FrameDecoder()
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { decoder.append(buffer) }
        var frames: [Frame] = []
        while let frame = try decoder.next() { frames.append(frame) }
        return frames
    }

    private func error(in frames: [Frame]) throws -> ErrorResponse? {
        guard let frame = frames.first(where: { $0.type == .errorResponse }) else { return nil }
        return try ErrorResponse(body: frame.body)
    }

    /// SSLRequest and GSSENCRequest are answered 'N' and the client may go on in plain text.
    @Test(arguments: [StartupPacket.Code.sslRequest, StartupPacket.Code.gssEncRequest])
    func encryptionRequestsAreAnsweredN(code: Int32) throws {
        let channel = try makeChannel()
        try channel.writeInbound(packet(code: code))
        let reply = try channel.readOutbound(as: ByteBuffer.self)
        #expect(reply.map { Array($0.readableBytesView) } == [UInt8(ascii: "N")])
        #expect(channel.isActive)
    }

    /// Protocol 2.0 gets FATAL 0A000 naming the version, and the connection closes.
    @Test func unsupportedProtocolVersionIsRefused() throws {
        let channel = try makeChannel()
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(Int32(2 << 16))
        try channel.writeInbound(buffer)
        let error = try error(in: frames(channel))
        #expect(error?.code == .featureNotSupported)
        #expect(error?.severity == "FATAL")
        #expect(error?.message?.contains("2.0") == true)
        #expect(!channel.isActive)
    }

    /// A startup packet with an impossible length closes that client with 08P01, nothing else.
    @Test func invalidStartupLengthIsAProtocolViolation() throws {
        let channel = try makeChannel()
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(4))
        buffer.writeInteger(Int32(0))
        try channel.writeInbound(buffer)
        let error = try error(in: frames(channel))
        #expect(error?.code == .protocolViolation)
        #expect(!channel.isActive)
    }

    /// An unknown startup parameter is refused with 08P01 and a hint naming ignore_startup_parameters.
    @Test func unknownStartupParameterIsRefusedUnlessIgnored() throws {
        let refused = try makeChannel()
        try refused.writeInbound(startup([("user", "alice"), ("database", "app"), ("extra_float_digits", "3")]))
        let error = try error(in: frames(refused))
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "unsupported startup parameter: extra_float_digits")
        #expect(error?.hint?.contains("ignore_startup_parameters") == true)

        let allowed = try makeChannel("ignore_startup_parameters = extra_float_digits", passwords: ["alice": "pw"])
        try allowed.writeInbound(startup([("user", "alice"), ("database", "app"), ("extra_float_digits", "3")]))
        let reply = try frames(allowed)
        #expect(reply.first?.type == .authentication, "expected an authentication request")
    }

    /// md5 login with a wrong password and with an unknown user: the same 28P01 after the same exchange.
    @Test(arguments: ["alice", "mallory"])
    func wrongPasswordAndUnknownUserLookTheSame(user: String) throws {
        let channel = try makeChannel(passwords: ["alice": "secret"])
        try channel.writeInbound(startup([("user", user), ("database", "app")]))
        let request = try frames(channel)
        guard case .authentication(.md5Password(let salt))? = try request.first.flatMap({ try BackendMessage(frame: $0) })
        else {
            Issue.record("expected an md5 request, got \(request.map(\.type))")
            return
        }
        var answer = ByteBuffer()
        FrontendMessage.password(Array(MD5Password.response(user: user, password: "guess", salt: salt).utf8))
            .encode(into: &answer)
        try channel.writeInbound(answer)
        let error = try error(in: frames(channel))
        #expect(error?.code == .invalidPassword)
        #expect(error?.message == "password authentication failed for user \"\(user)\"")
        #expect(!channel.isActive)
    }

    /// The right md5 password to an unknown database: 3D000 naming the database.
    @Test func unknownDatabaseAfterLoginIs3D000() throws {
        let channel = try makeChannel(passwords: ["alice": "secret"])
        try channel.writeInbound(startup([("user", "alice"), ("database", "orders")]))
        guard case .authentication(.md5Password(let salt))? = try frames(channel).first.flatMap({ try BackendMessage(frame: $0) })
        else {
            Issue.record("expected an md5 request")
            return
        }
        var answer = ByteBuffer()
        FrontendMessage.password(Array(MD5Password.response(user: "alice", password: "secret", salt: salt).utf8))
            .encode(into: &answer)
        try channel.writeInbound(answer)
        let reply = try frames(channel)
        #expect(reply.first.flatMap { try? BackendMessage(frame: $0) } == .authentication(.ok))
        let error = try error(in: reply)
        #expect(error?.code == .invalidCatalogName)
        #expect(error?.message == "no such database: \"orders\"")
    }

    /// Over max_client_conn, a new client gets FATAL 53300 naming the limit.
    @Test func clientsOverMaxClientConnAreRefused() throws {
        let first = try makeChannel("max_client_conn = 1", passwords: ["alice": "secret"])
        // A second channel sharing the first one's executor.
        let executor = executors[0]
        let loop = first.embeddedEventLoop
        let second = EmbeddedChannel(loop: loop)
        try second.pipeline.syncOperations.addHandler(ClientConnection(executor: executor, loop: loop, logger: Logger(label: "t")))
        try second.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5556)).wait()
        try second.writeInbound(startup([("user", "alice"), ("database", "app")]))
        let error = try error(in: frames(second))
        #expect(error?.code == .tooManyConnections)
        #expect(error?.message == "no more connections allowed (max_client_conn)")
        _ = first
    }

    /// A typed message with length 0 after login starts: closed with the exact length message.
    @Test func malformedFrameDuringLoginClosesOnlyThatClient() throws {
        let channel = try makeChannel(passwords: ["alice": "secret"])
        try channel.writeInbound(startup([("user", "alice"), ("database", "app")]))
        _ = try frames(channel)
        var bad = ByteBuffer()
        bad.writeInteger(MessageType.password.rawValue)
        bad.writeInteger(Int32(0))
        try channel.writeInbound(bad)
        let error = try error(in: frames(channel))
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "invalid length 0 for message type 'p'")
        #expect(!channel.isActive)
    }
}
