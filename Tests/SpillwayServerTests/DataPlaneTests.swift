import Foundation
import Logging
import NIOCore
import PostgresWire
import SpillwayCore
import Testing

@testable import SpillwayServer

/// The engine data plane end to end over Unix sockets: clients in, a scripted PostgreSQL out, nothing else.
@Suite(.serialized) final class DataPlaneTests {
    let harness: PlaneHarness
    var postgres: ScriptedPostgresServer { harness.postgres }

    init() throws {
        harness = try PlaneHarness()
    }

    /// A data plane in front of the scripted server with `ini` added to [pgbouncer].
    func start(_ ini: String = "", threads: Int = 2) throws -> DataPlane {
        try harness.start(ini, threads: threads)
    }

    func client(_ plane: DataPlane) throws -> BlockingWireClient {
        try harness.client(plane)
    }

    /// Waits (deadline, no sleep-and-hope) for `condition`.
    func eventually(_ what: String, timeout: Duration = .seconds(5), _ condition: () -> Bool) {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            usleep(1000)
        }
    }

    /// Login, a query, and a second client served by the same server: transaction pooling.
    @Test(.timeLimit(.minutes(1))) func clientsShareOneServerBetweenTransactions() throws {
        let plane = try start("default_pool_size = 5")
        defer { plane.shutdown() }
        let first = try client(plane)
        let login = try first.login()
        #expect(login.types.contains(.backendKeyData))
        #expect(login.status == .idle)
        #expect(try first.query("select 1").firstColumns == ["select 1"])
        let second = try client(plane)
        try second.login()
        #expect(try second.query("select 2").firstColumns == ["select 2"])
        #expect(postgres.connectionCounts.total == 1)
    }

    /// A transaction keeps its server; a client of the same one-server pool waits until COMMIT.
    @Test(.timeLimit(.minutes(1))) func transactionHoldsItsServerAndTheNextClientWaits() throws {
        let plane = try start("default_pool_size = 1")
        defer { plane.shutdown() }
        let holder = try client(plane)
        try holder.login()
        #expect(try holder.query("begin").status == .inTransaction)
        #expect(try holder.query("select inside").status == .inTransaction)
        let waiter = try client(plane)
        try waiter.login()
        try waiter.send(.query("select waiting"))
        #expect(throws: BlockingWireClient.Failure.self) { try waiter.readUntilReady(timeout: .milliseconds(200)) }
        #expect(try holder.query("commit").status == .idle)
        #expect(try waiter.readUntilReady().firstColumns == ["select waiting"])
        #expect(postgres.connectionCounts.most == 1)
    }

    /// An extended-protocol batch (Parse, Bind, Describe, Execute, Sync) goes through whole.
    @Test(.timeLimit(.minutes(1))) func extendedBatchPassesThrough() throws {
        let plane = try start()
        defer { plane.shutdown() }
        let app = try client(plane)
        try app.login()
        try app.send(frame: .parse) { $0.writeString("\0select $1\0"); $0.writeInteger(Int16(0)) }
        try app.send(frame: .bind) { $0.writeString("\0\0"); $0.writeInteger(Int16(0)); $0.writeInteger(Int16(0)); $0.writeInteger(Int16(0)) }
        try app.send(frame: .describe) { $0.writeString("P\0") }
        try app.send(frame: .execute) { $0.writeString("\0"); $0.writeInteger(Int32(0)) }
        try app.send(.sync)
        let answer = try app.readUntilReady()
        #expect(answer.types == [.parseComplete, .bindComplete, .noData, .dataRow, .commandComplete, .readyForQuery])
    }

    /// COPY FROM STDIN: the server is held through CopyData and CopyDone, released after.
    @Test(.timeLimit(.minutes(1))) func copyInHoldsTheServerUntilDone() throws {
        let plane = try start("default_pool_size = 1")
        defer { plane.shutdown() }
        let app = try client(plane)
        try app.login()
        try app.send(.query("copy in"))
        let other = try client(plane)
        try other.login()
        try other.send(.query("select after copy"))
        for _ in 0..<2 { try app.send(frame: .copyData) { $0.writeString("1\t2\n") } }
        try app.send(frame: .copyDone)
        // The whole copy went out without waiting for CopyInResponse (pipelined): the server must still come
        // back to the pool at its ReadyForQuery, or `other` waits for ever.
        let answer = try app.readUntilReady()
        #expect(answer.types == [.copyInResponse, .commandComplete, .readyForQuery])
        #expect(try other.readUntilReady().firstColumns == ["select after copy"])
    }

    /// An error inside a transaction leaves the client's transaction failed on its server, which it keeps
    /// until ROLLBACK; an error outside one releases the server as usual.
    @Test(.timeLimit(.minutes(1))) func errorsReachTheClientAndTheServerIsKeptInAFailedTransaction() throws {
        let plane = try start("default_pool_size = 1")
        defer { plane.shutdown() }
        let app = try client(plane)
        try app.login()
        #expect(try app.query("fail").errorCode == "42601")
        try app.query("begin")
        let failed = try app.query("fail")
        #expect(failed.errorCode == "42601")
        #expect(failed.status == .failed)
        #expect(try app.query("rollback").status == .idle)
        #expect(try app.query("select again").firstColumns == ["select again"])
    }

    /// PostgreSQL going away under an idle client's feet: the next statement gets a new server; a client
    /// mid-statement gets an error and stays connected.
    @Test(.timeLimit(.minutes(1))) func serverLossIsSurvivedByClients() throws {
        let plane = try start("default_pool_size = 2")
        defer { plane.shutdown() }
        let app = try client(plane)
        try app.login()
        try app.query("select 1")
        postgres.dropAll()
        eventually("the scripted server to drop its connections") { postgres.connectionCounts.open == 0 }
        #expect(try app.query("select after loss").firstColumns == ["select after loss"])
        #expect(postgres.connectionCounts.total == 2)
    }

    /// pool_size holds across loops: many clients on two loops, one server at a time, every query answered.
    @Test(.timeLimit(.minutes(1))) func poolSizeHoldsAcrossLoops() throws {
        let plane = try start("default_pool_size = 1", threads: 2)
        defer { plane.shutdown() }
        var clients: [BlockingWireClient] = []
        for _ in 0..<6 {
            let app = try client(plane)
            try app.login()
            clients.append(app)
        }
        for round in 0..<3 {
            for (index, app) in clients.enumerated() { try app.send(.query("select \(round)-\(index)")) }
            for (index, app) in clients.enumerated() {
                #expect(try app.readUntilReady().firstColumns == ["select \(round)-\(index)"])
            }
        }
        #expect(postgres.connectionCounts.most == 1)
    }

    /// transaction_timeout ends a transaction open too long with FATAL 25P04; the server is not reused.
    @Test(.timeLimit(.minutes(1))) func transactionTimeoutClosesTheClient() throws {
        let plane = try start("transaction_timeout = 0.2")
        defer { plane.shutdown() }
        let app = try client(plane)
        try app.login()
        #expect(try app.query("begin").status == .inTransaction)
        let started = ContinuousClock.now
        let answer = try app.readUntilReady(timeout: .seconds(3))
        #expect(answer.errorCode == "25P04")
        #expect(ContinuousClock.now - started >= .milliseconds(150))
        eventually("the server of the timed-out transaction to be closed") { postgres.connectionCounts.open == 0 }
    }

    /// A client waiting longer than query_wait_notify hears so once, then gets its answer.
    @Test(.timeLimit(.minutes(1))) func longWaitIsNotifiedOnce() throws {
        let plane = try start("default_pool_size = 1\nquery_wait_notify = 0.2")
        defer { plane.shutdown() }
        let holder = try client(plane)
        try holder.login()
        try holder.query("begin")
        let waiter = try client(plane)
        try waiter.login()
        try waiter.send(.query("select waited"))
        let notice = try waiter.read(until: { $0.type == .noticeResponse })
        #expect(notice.last?.type == .noticeResponse)
        try holder.query("commit")
        let answer = try waiter.readUntilReady()
        #expect(!answer.types.contains(.noticeResponse))
        #expect(answer.firstColumns == ["select waited"])
    }

    /// A CancelRequest with the client's key reaches PostgreSQL with the key of the server the client holds.
    @Test(.timeLimit(.minutes(1))) func cancelReachesTheServerWithItsOwnKey() throws {
        let plane = try start()
        defer { plane.shutdown() }
        let app = try client(plane)
        let key = try #require(try app.login().backendKey)
        try app.query("begin")  // holds its server
        try client(plane).sendCancel(key)
        eventually("the cancel to reach PostgreSQL") { postgres.cancels.count == 1 }
        #expect(postgres.cancels == [CancelRequest(processID: 4242, secretKey: 77)])
    }

    /// A client that connects and says nothing is closed at client_login_timeout with 08006.
    @Test(.timeLimit(.minutes(1))) func silentClientIsClosedAtLoginTimeout() throws {
        let plane = try start("client_login_timeout = 0.2")
        defer { plane.shutdown() }
        let silent = try client(plane)
        let answer = try silent.readUntilReady(timeout: .seconds(3))
        #expect(answer.errorCode == "08006")
    }

    /// A database not in [databases] is refused with 3D000, by name.
    @Test(.timeLimit(.minutes(1))) func unknownDatabaseIsRefused() throws {
        let plane = try start()
        defer { plane.shutdown() }
        let app = try client(plane)
        let answer = try app.login(database: "orders")
        #expect(answer.errorCode == "3D000")
    }
}
