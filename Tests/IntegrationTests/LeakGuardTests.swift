import Foundation
import PostgresWire
import SpillwayTools
import Testing

/// The leak guard against real PostgreSQL: clients idle inside transactions give their servers back when
/// others wait, idle_transaction_timeout ends them, and a transaction that merely thinks for 100 ms is left
/// alone.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LeakGuardTests {
    /// A client of Spillway speaking our own wire client (it reports the FATAL a closed connection got).
    private func client(_ spillway: SpillwayUnderTest, application: String? = nil) async throws -> WireClient {
        try await WireClient.connect(.init(
            host: "127.0.0.1", port: spillway.port, user: TestCluster.scramUser, password: TestCluster.scramPassword,
            database: TestCluster.database, applicationName: application))
    }

    private func backendPID(_ client: WireClient) async throws -> String? {
        try await client.query("select pg_backend_pid()", timeout: .seconds(10)).rows.first?.first ?? nil
    }

    /// Pool of 2, cap 1: a client sits idle in its transaction. A statement from another client is served at
    /// once by the free server; a new transaction waits (the pool already holds an idle transaction) until the
    /// idle holder has been idle for idle_transaction_reclaim_after (2 s), then gets its server, rolled back;
    /// the holder gets 25P03.
    @Test func idleHolderIsReclaimedForAWaiterAndItsServerReused() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 2", "reserve_pool_size = 0"])
        defer { Task { await spillway.stop() } }
        let first = try await client(spillway)
        try await first.query("begin")
        let firstPID = try await backendPID(first)
        try await first.query("create temp table leak_guard_marker (x int)")
        let idleSince = ContinuousClock.now

        let statement = try await client(spillway)
        let asked = ContinuousClock.now
        #expect(try await backendPID(statement) != firstPID)
        #expect(ContinuousClock.now - asked < .seconds(1), "a statement waited behind the idle transaction")

        let second = try await client(spillway)
        try await second.query("begin")
        let waited = ContinuousClock.now - idleSince
        #expect(waited >= .milliseconds(1900) && waited < .seconds(5), "the new transaction waited \(waited)")
        let secondPID = try await backendPID(second)
        #expect(secondPID == firstPID, "the reclaimed server was not reused (first \(String(describing: firstPID)), second \(String(describing: secondPID)))")
        // Rolled back: the temp table created inside the reclaimed transaction is gone.
        let marker = try await second.query("select count(*) from pg_class where relname = 'leak_guard_marker'")
        #expect(marker.rows.first?.first == "0")

        do {
            try await first.query("select 1")
            Issue.record("the reclaimed client could still run a query")
        } catch let error as WireClientError {
            #expect(error.sqlState == "25P03", "\(error)")
            if case .server(let response) = error {
                #expect(response.message?.contains("idle in transaction while other clients waited") == true)
                #expect(response.detail?.contains("max_idle_transaction_servers (1)") == true, "\(response)")
            }
        }
        let waiter = statement
        try await second.query("commit")
        #expect(spillway.logs.text.contains("leak guard reclaimed a server"))
        await second.close()
        await waiter.close()
    }

    /// idle_transaction_timeout: the client gets 25P03 naming the timeout, and its server is reused.
    @Test func idleTransactionTimeoutEndsTheClientAndKeepsTheServer() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: [
            "default_pool_size = 1", "idle_transaction_timeout = 1", "reserve_pool_size = 0",
        ])
        defer { Task { await spillway.stop() } }
        let idle = try await client(spillway)
        try await idle.query("begin")
        let idlePID = try await backendPID(idle)
        try await Task.sleep(for: .milliseconds(2_600))
        do {
            try await idle.query("select 1")
            Issue.record("the query ran after idle_transaction_timeout")
        } catch let error as WireClientError {
            #expect(error.sqlState == "25P03", "\(error)")
            if case .server(let response) = error {
                #expect(response.message == "terminating connection due to idle-in-transaction timeout")
                #expect(response.detail?.contains("idle_transaction_timeout is 1 s") == true, "\(response)")
            }
        }
        let next = try await client(spillway)
        #expect(try await backendPID(next) == idlePID, "the server was thrown away instead of rolled back and reused")
        await next.close()
    }

    /// A transaction that pauses 100 ms between statements while other clients keep the pool busy (and waiting)
    /// is never reclaimed: only holders past the cap are, and it alone is idle.
    @Test func briefThinkingInsideTransactionIsLeftAlone() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 2", "reserve_pool_size = 0"])
        defer { Task { await spillway.stop() } }
        let worker = try await client(spillway)
        let load = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let busy = try await client(spillway)
                        for _ in 0..<40 { try await busy.query("select pg_sleep(0.01)") }
                        await busy.close()
                    }
                }
                try await group.waitForAll()
            }
        }
        for _ in 0..<5 {
            try await worker.query("begin")
            for _ in 0..<3 {
                try await worker.query("select 1")
                try await Task.sleep(for: .milliseconds(100))
            }
            try await worker.query("commit")
        }
        try await load.value
        #expect(!spillway.logs.text.contains("leak guard reclaimed"), "\(spillway.logs.text.suffix(2000))")
        await worker.close()
    }

    /// query_timeout cancels a request that runs too long (57014); the client keeps its connection.
    @Test func queryTimeoutCancelsTheQuery() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["query_timeout = 1"])
        defer { Task { await spillway.stop() } }
        let slow = try await client(spillway)
        let started = ContinuousClock.now
        do {
            try await slow.query("select pg_sleep(10)", timeout: .seconds(20))
            Issue.record("pg_sleep(10) ran to the end despite query_timeout = 1")
        } catch let error as WireClientError {
            #expect(error.sqlState == "57014", "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(try await slow.query("select 'still here'").rows.first?.first == "still here")
        #expect(spillway.logs.text.contains("query ran too long; canceling it"))
        await slow.close()
    }

    /// client_idle_timeout closes a client that sends nothing; the log line says why and how long it lived.
    @Test func clientIdleTimeoutClosesSilentClients() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["client_idle_timeout = 1"])
        defer { Task { await spillway.stop() } }
        let silent = try await client(spillway)
        try await silent.query("select 1")
        try await Task.sleep(for: .milliseconds(2_600))
        do {
            try await silent.query("select 1")
            Issue.record("the idle client was not closed")
        } catch let error as WireClientError {
            #expect(error.sqlState == "57P01", "\(error)")
            #expect(error.description.contains("client_idle_timeout"), "\(error)")
        }
        try await eventually("the disconnect is logged with its reason") {
            spillway.logs.text.contains("reason=57P01 terminating connection due to client_idle_timeout")
        }
    }

    /// max_db_connections holds a pool's clients in the queue; one that waits past query_wait_timeout is told
    /// which limit held it.
    @Test func waitTimeoutNamesTheLimitThatHeldTheClient() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: [
            "max_db_connections = 1", "query_wait_timeout = 1", "reserve_pool_size = 0",
        ])
        defer { Task { await spillway.stop() } }
        let holder = try await client(spillway)
        let hold = Task { try await holder.query("select pg_sleep(3)", timeout: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        let waiter = try await client(spillway)
        do {
            try await waiter.query("select 1", timeout: .seconds(10))
            Issue.record("the query ran past max_db_connections")
        } catch let error as WireClientError {
            #expect(error.sqlState == "57014", "\(error)")
            guard case .server(let response) = error else { return }
            #expect(response.detail?.contains("max_db_connections 1 reached for \(TestCluster.database)") == true,
                    "\(String(describing: response.detail))")
        }
        _ = try await hold.value
        await holder.close()
        await waiter.close()
    }
}
