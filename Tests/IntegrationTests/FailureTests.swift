import Foundation
import PostgresNIO
import Testing

/// What clients see when PostgreSQL refuses Spillway or sends more than a client reads at once.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FailureTests {
    /// auth_file holds a wrong server password: the client gets PostgreSQL's 28P01 at login, at once,
    /// and the next client is refused without a new login attempt during server_login_retry.
    @Test func serverLoginFailureReachesTheClientAtOnce() async throws {
        let spillway = try await SpillwayUnderTest.start(
            settings: ["auth_type = plain", "server_login_retry = 30"],
            authFile: ["\"\(TestCluster.md5User)\" \"not_the_server_password\""])
        defer { Task { await spillway.stop() } }
        let started = ContinuousClock.now
        do {
            let connection = try await spillway.connect(user: TestCluster.md5User, password: "not_the_server_password")
            try? await connection.close()
            Issue.record("login succeeded with a wrong server password")
        } catch {
            #expect(sqlState(of: error) == "28P01", "\(String(reflecting: error))\n\(spillway.logs.text)")
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        let second = try await spillway.psql(["select 1"], user: TestCluster.md5User, password: "not_the_server_password")
        #expect(second.status != 0)
        #expect(second.stderr.contains("server_login_retry"), "\(second.stderr)")
        let attempts = spillway.logs.text.components(separatedBy: "server login failed").count - 1
        #expect(attempts == 1, "expected one login attempt during server_login_retry, saw \(attempts)")
    }

    /// An 8 MB result streams through Spillway intact, and the server goes back to the pool afterwards.
    @Test func largeResultStreamsThrough() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 1"])
        defer { Task { await spillway.stop() } }
        let result = try await spillway.psql(
            ["select count(*), sum(length(r)) from (select repeat('x', 400) || i as r from generate_series(1, 20000) i) s",
             "select repeat('y', 400) from generate_series(1, 20000)"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "20000|8088894")
        #expect(lines.count == 20_001)
        let after = try await spillway.psql(["select 'pool still works'"])
        #expect(after.stdout == "pool still works\n")
    }
}

/// query_wait_timeout: a client that cannot get a server is answered, not left hanging.
@Suite(.timeLimit(.minutes(1)))
struct QueryWaitTimeoutTests {
    /// Pool of one held by an open transaction: a second client's query gets 57014 after the timeout and
    /// keeps its connection; once the holder commits, the second client's next query runs.
    @Test func waiterGets57014AndKeepsItsConnection() async throws {
        // max_idle_transaction_servers = 1: the holder may keep its idle transaction; the leak guard's reclaim
        // is tested in LeakGuardTests.
        let spillway = try await SpillwayUnderTest.start(
            settings: ["default_pool_size = 1", "query_wait_timeout = 2", "max_idle_transaction_servers = 1"])
        defer { Task { await spillway.stop() } }
        let holder = try await spillway.connect()
        _ = try await holder.query("begin", logger: .init(label: "t")).collect()
        let waiter = try await spillway.connect()
        let started = ContinuousClock.now
        do {
            _ = try await waiter.query("select 1", logger: .init(label: "t")).collect()
            Issue.record("the query ran although the only server was held")
        } catch {
            #expect(sqlState(of: error) == "57014", "\(String(reflecting: error))")
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .seconds(2) && waited < .seconds(5), "waited \(waited)")
        _ = try await holder.query("commit", logger: .init(label: "t")).collect()
        let rows = try await waiter.query("select 7::int8", logger: .init(label: "t"))
        for try await value in rows.decode(Int.self) { #expect(value == 7) }
        try await holder.close()
        try await waiter.close()
    }
}
