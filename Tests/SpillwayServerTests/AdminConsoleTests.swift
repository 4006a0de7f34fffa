import Logging
import NIOCore
import NIOEmbedded
import PostgresWire
import SpillwayCore
import Testing

@testable import SpillwayServer

/// The admin console on an EmbeddedChannel: login on the `pgbouncer` database, simple queries, PgBouncer's columns.
@Suite final class AdminConsoleTests {
    private var executors: [PoolExecutor] = []

    private func console(user: String, database: String = "pgbouncer") throws -> EmbeddedChannel {
        let text = """
            [databases]
            app = host=127.0.0.1 port=1 dbname=app pool_size=7
            [pgbouncer]
            auth_type = md5
            admin_users = root
            stats_users = watcher
            max_client_conn = 1
            """
        let config = try Config.parse(text, file: "test.ini")
        let loop = EmbeddedEventLoop()
        let executor = PoolExecutor(
            loops: [loop],
            config: RuntimeConfig(config: config, userList: UserList(passwords: ["root": "pw", "watcher": "pw", "app": "pw"])),
            logger: Logger(label: "test"))
        executors.append(executor)
        // Fill max_client_conn first: the console must still let an operator in.
        let other = EmbeddedChannel(loop: loop)
        try other.pipeline.syncOperations.addHandler(ClientConnection(executor: executor, loop: loop, logger: Logger(label: "t")))
        try other.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5000)).wait()

        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(ClientConnection(executor: executor, loop: loop, logger: Logger(label: "t")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5001)).wait()
        var startup = ByteBuffer()
        StartupMessage(parameters: [("user", user), ("database", database)]).encode(into: &startup)
        try channel.writeInbound(startup)
        guard case .authentication(.md5Password(let salt))? = try frames(channel).first.flatMap({ try BackendMessage(frame: $0) })
        else { throw ConsoleTestError("expected an md5 request") }
        var answer = ByteBuffer()
        FrontendMessage.password(Array(MD5Password.response(user: user, password: "pw", salt: salt).utf8)).encode(into: &answer)
        try channel.writeInbound(answer)
        return channel
    }

    private func frames(_ channel: EmbeddedChannel) throws -> [Frame] {
        var decoder = FrameDecoder()
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { decoder.append(buffer) }
        var frames: [Frame] = []
        while let frame = try decoder.next() { frames.append(frame) }
        return frames
    }

    private func query(_ channel: EmbeddedChannel, _ sql: String) throws -> [Frame] {
        var buffer = ByteBuffer()
        FrontendMessage.query(sql).encode(into: &buffer)
        try channel.writeInbound(buffer)
        channel.embeddedEventLoop.run()  // answers gathered from every loop (SHOW CLIENTS) arrive as tasks
        return try frames(channel)
    }

    /// RowDescription as (name, type OID) pairs.
    private func columns(_ frames: [Frame]) -> [PgBouncerConsole.Column] {
        guard var body = frames.first(where: { $0.type == .rowDescription })?.body,
              let count = body.readInteger(as: Int16.self) else { return [] }
        var columns: [PgBouncerConsole.Column] = []
        for _ in 0..<count {
            guard let end = body.readableBytesView.firstIndex(of: 0),
                  let name = body.readString(length: end - body.readerIndex) else { break }
            body.moveReaderIndex(forwardBy: 1 + 4 + 2)
            let oid = body.readInteger(as: UInt32.self) ?? 0
            body.moveReaderIndex(forwardBy: 2 + 4 + 2)
            columns.append(.init(name: name, typeOID: oid))
        }
        return columns
    }

    private func dataRows(_ frames: [Frame]) -> [[String?]] {
        frames.filter { $0.type == .dataRow }.map { frame in
            var body = frame.body
            let count = body.readInteger(as: Int16.self) ?? 0
            return (0..<count).map { _ in
                let length = body.readInteger(as: Int32.self) ?? -1
                return length < 0 ? nil : body.readString(length: Int(length))
            }
        }
    }

    /// Each SHOW Spillway answers has PgBouncer 1.18's column names, order and types, and ends with ReadyForQuery.
    @Test(arguments: AdminConsole.shows)
    func showMatchesPgBouncerColumns(subject: String) throws {
        let channel = try console(user: "root")
        let login = try frames(channel)
        #expect(login.last?.readyForQueryStatus == .idle, "console login did not finish")
        let reply = try query(channel, "show \(subject.lowercased());")
        #expect(columns(reply) == PgBouncerConsole.columns[subject], "SHOW \(subject)")
        #expect(reply.last?.readyForQueryStatus == .idle)
        #expect(reply.contains { $0.type == .commandComplete })
    }

    /// SHOW DATABASES reads the configuration: pool_size 7 for app.
    @Test func showDatabasesReportsConfiguredPoolSize() throws {
        let channel = try console(user: "root")
        _ = try frames(channel)
        let rows = dataRows(try query(channel, "SHOW DATABASES"))
        let app = rows.first { $0.first == "app" }
        #expect(app?[5] == "7", "\(rows)")
        #expect(app?[2] == "1")
    }

    /// An unknown command gets PgBouncer's 08P01 message, with the known commands in the hint.
    @Test func unknownCommandListsWhatExists() throws {
        let channel = try console(user: "root")
        _ = try frames(channel)
        let reply = try query(channel, "FROB")
        let error = try reply.first { $0.type == .errorResponse }.map { try ErrorResponse(body: $0.body) }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "invalid command 'FROB', use SHOW HELP;")
        #expect(error?.hint?.contains("SHOW") == true)
        #expect(reply.last?.readyForQueryStatus == .idle, "the console stays usable after an error")
    }

    /// stats_users may SHOW but not PAUSE.
    @Test func statsUserCannotPause() throws {
        let channel = try console(user: "watcher")
        _ = try frames(channel)
        #expect(!columns(try query(channel, "SHOW POOLS")).isEmpty)
        let reply = try query(channel, "PAUSE")
        let error = try reply.first { $0.type == .errorResponse }.map { try ErrorResponse(body: $0.body) }
        #expect(error?.message == "admin access needed")
    }

    /// A user in neither admin_users nor stats_users is refused with 28000 after authenticating.
    @Test func ordinaryUserIsRefused() throws {
        let channel = try console(user: "app")
        let error = try frames(channel).first { $0.type == .errorResponse }.map { try ErrorResponse(body: $0.body) }
        #expect(error?.code == .invalidAuthorizationSpecification)
        #expect(error?.severity == "FATAL")
        #expect(!channel.isActive)
    }
}

struct ConsoleTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
