import Foundation
import PostgresNIO
import Testing

/// The admin console against real clients: psql as the operator, PostgresNIO as the application.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AdminConsoleIntegrationTests {
    private func start() async throws -> SpillwayUnderTest {
        try await SpillwayUnderTest.start(settings: ["admin_users = \(TestCluster.scramUser)", "default_pool_size = 2"])
    }

    private func admin(_ spillway: SpillwayUnderTest, _ command: String) async throws -> Shell.Result {
        try await spillway.psql([command], database: "pgbouncer")
    }

    /// PAUSE holds new queries until RESUME; SHOW POOLS reports the waiting client meanwhile.
    @Test func pauseHoldsQueriesUntilResume() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let app = try await spillway.connect()
        _ = try await app.query("select 1", logger: .init(label: "t")).collect()

        let paused = try await admin(spillway, "PAUSE")
        #expect(paused.status == 0, "\(paused.stderr)")
        let query = Task { try await app.query("select 42::int8", logger: .init(label: "t")).collect() }
        try await eventually("the query waits while paused") {
            let pools = try await admin(spillway, "SHOW POOLS")
            return pools.stdout.split(separator: "\n").contains { $0.hasPrefix("\(TestCluster.database)|") && $0.split(separator: "|")[3] == "1" }
        }
        let resumed = try await admin(spillway, "RESUME")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let rows = try await query.value
        #expect(rows.count == 1)
        try await app.close()
    }

    /// DISABLE refuses new logins to the database with 57P03; ENABLE lets them in again.
    @Test func disableRefusesNewLoginsUntilEnable() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        #expect(try await admin(spillway, "DISABLE \(TestCluster.database)").status == 0)
        do {
            let connection = try await spillway.connect()
            try? await connection.close()
            Issue.record("login to a disabled database succeeded")
        } catch {
            #expect(sqlState(of: error) == "57P03", "\(String(reflecting: error))")
        }
        let databases = try await admin(spillway, "SHOW DATABASES")
        #expect(databases.stdout.split(separator: "\n").contains { $0.hasPrefix("\(TestCluster.database)|") && $0.hasSuffix("|0|1") },
                "\(databases.stdout)")
        #expect(try await admin(spillway, "ENABLE \(TestCluster.database)").status == 0)
        let connection = try await spillway.connect()
        try await connection.close()
    }

    /// KILL_CLIENT closes that client with 57P01; an unknown id is an error.
    @Test func killClientClosesThatClient() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let victim = try await spillway.connect()  // the first client of this Spillway: c1
        _ = try await victim.query("select 1", logger: .init(label: "t")).collect()
        let killed = try await admin(spillway, "KILL_CLIENT c1")
        #expect(killed.status == 0, "\(killed.stderr)")
        try await eventually("the killed client is closed") { victim.isClosed }
        let unknown = try await admin(spillway, "KILL_CLIENT c999")
        #expect(unknown.stderr.contains("no such client"), "\(unknown.stderr)")
    }

    /// RECONNECT closes idle servers; the next query opens a fresh one (a new backend pid).
    @Test func reconnectReplacesServers() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let app = try await spillway.connect()
        func pid() async throws -> Int {
            var value = 0
            for try await row in try await app.query("select pg_backend_pid()::int8", logger: .init(label: "t")).decode(Int.self) { value = row }
            return value
        }
        let before = try await pid()
        #expect(try await admin(spillway, "RECONNECT").status == 0)
        let after = try await pid()
        #expect(before != after)
        try await app.close()
    }

    /// SHOW CLIENTS lists the application with its application_name; SHOW SERVERS shows the backend's pid.
    @Test func showClientsAndServersListConnections() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let app = try await spillway.connect()
        _ = try await app.query("set application_name = 'listed-app'", logger: .init(label: "t")).collect()
        var pid = 0
        for try await row in try await app.query("select pg_backend_pid()::int8", logger: .init(label: "t")).decode(Int.self) {
            pid = row
        }
        let clients = try await admin(spillway, "SHOW CLIENTS")
        #expect(clients.status == 0, "\(clients.stderr)")
        let appRow = clients.stdout.split(separator: "\n").first { $0.hasSuffix("|listed-app") }
        #expect(appRow?.hasPrefix("C|\(TestCluster.scramUser)|\(TestCluster.database)|active|127.0.0.1|") == true,
                "\(clients.stdout)")
        let servers = try await admin(spillway, "SHOW SERVERS")
        #expect(servers.stdout.contains("|\(pid)|"), "backend \(pid) not in \(servers.stdout)")
        try await app.close()
    }
}
