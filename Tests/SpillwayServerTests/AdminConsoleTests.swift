import NIOCore
import PostgresWire
import SpillwayCore
import Testing

@testable import SpillwayServer

/// The admin console on the engine over its Unix socket: login on the `pgbouncer` database, simple queries,
/// PgBouncer's columns.
@Suite(.serialized) final class AdminConsoleTests {
    let harness: PlaneHarness
    private var planes: [DataPlane] = []
    private var clients: [BlockingWireClient] = []

    init() throws {
        harness = try PlaneHarness()
    }

    deinit {
        for plane in planes { plane.shutdown() }
    }

    /// A console login as `user` (password "pw"), once max_client_conn is already full; the login's frames.
    private func console(user: String, database: String = "pgbouncer") throws -> (BlockingWireClient, [Frame]) {
        let plane = try harness.start(
            "admin_users = root\nstats_users = watcher\nmax_client_conn = 1",
            passwords: ["root": "pw", "watcher": "pw", "app": "pw"],
            databases: ["other = host=127.0.0.1 port=1 dbname=app pool_size=7"])
        planes.append(plane)
        // Fill max_client_conn first: the console must still let an operator in.
        let other = try harness.client(plane)
        #expect(try other.md5Login(user: "app", password: "pw", database: "app").status == .idle)
        clients.append(other)
        let client = try harness.client(plane)
        return (client, try client.md5Login(user: user, password: "pw", database: database))
    }

    private func query(_ client: BlockingWireClient, _ sql: String) throws -> [Frame] {
        try client.query(sql)
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
        let (channel, login) = try console(user: "root")
        #expect(login.last?.readyForQueryStatus == .idle, "console login did not finish")
        let reply = try query(channel, "show \(subject.lowercased());")
        #expect(columns(reply) == PgBouncerConsole.columns[subject], "SHOW \(subject)")
        #expect(reply.last?.readyForQueryStatus == .idle)
        #expect(reply.contains { $0.type == .commandComplete })
    }

    /// SHOW DATABASES reads the configuration: pool_size 7 for other.
    @Test func showDatabasesReportsConfiguredPoolSize() throws {
        let (channel, _) = try console(user: "root")
        let rows = dataRows(try query(channel, "SHOW DATABASES"))
        let other = rows.first { $0.first == "other" }
        #expect(other?[5] == "7", "\(rows)")
        #expect(other?[2] == "1")
    }

    /// An unknown command gets PgBouncer's 08P01 message, with the known commands in the hint.
    @Test func unknownCommandListsWhatExists() throws {
        let (channel, _) = try console(user: "root")
        let reply = try query(channel, "FROB")
        let error = try reply.first { $0.type == .errorResponse }.map { try ErrorResponse(body: $0.body) }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message == "invalid command 'FROB', use SHOW HELP;")
        #expect(error?.hint?.contains("SHOW") == true)
        #expect(reply.last?.readyForQueryStatus == .idle, "the console stays usable after an error")
    }

    /// stats_users may SHOW but not PAUSE.
    @Test func statsUserCannotPause() throws {
        let (channel, _) = try console(user: "watcher")
        #expect(!columns(try query(channel, "SHOW POOLS")).isEmpty)
        let reply = try query(channel, "PAUSE")
        let error = try reply.first { $0.type == .errorResponse }.map { try ErrorResponse(body: $0.body) }
        #expect(error?.message == "admin access needed")
    }

    /// A user in neither admin_users nor stats_users is refused with 28000 after authenticating.
    @Test func ordinaryUserIsRefused() throws {
        let (channel, login) = try console(user: "app")
        let error = try login.first { $0.type == .errorResponse }.map { try ErrorResponse(body: $0.body) }
        #expect(error?.code == .invalidAuthorizationSpecification)
        #expect(error?.severity == "FATAL")
        #expect(channel.isClosedByServer())
    }
}

struct ConsoleTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
