import Foundation
import PostgresNIO
import Testing

/// The admin console against real clients: psql as the operator, PostgresNIO as the application.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AdminConsoleIntegrationTests {
    private func start() async throws -> SpillwayUnderTest {
        try await SpillwayUnderTest.start(settings: [
            "admin_users = \(TestCluster.scramUser)", "default_pool_size = 2", "reserve_pool_size = 0",
        ])
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

    /// RELOAD picks up a bigger default_pool_size while 50 pgbench clients run, with no failed transaction;
    /// a broken file is refused, naming its line, and the running configuration stays.
    @Test(.timeLimit(.minutes(2)))
    func reloadChangesPoolSizeUnderLoadAndRefusesBadFiles() async throws {
        try await PgbenchData.ensure()
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let cluster = try TestCluster.info()
        let bench = Task {
            try await Shell.run(
                "\(cluster.bin)/pgbench",
                ["-n", "-S", "-c", "50", "-j", "2", "-T", "4",
                 "host=127.0.0.1 port=\(spillway.port) dbname=\(TestCluster.database) user=\(TestCluster.scramUser)"],
                environment: ["PGPASSWORD": TestCluster.scramPassword])
        }
        let path = "\(spillway.directory)/spillway.ini"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try original.replacingOccurrences(of: "default_pool_size = 2", with: "default_pool_size = 5")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let reloaded = try await admin(spillway, "RELOAD")
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        // Spillway's own count of the pool's servers: pg_stat_activity would also see other suites' servers of the
        // same role, which run in parallel.
        let sampler = Task {
            var peak = 0
            while !Task.isCancelled {
                let servers = (try? await spillway.poolCounts())??.servers
                peak = max(peak, servers ?? 0)
                try? await Task.sleep(for: .milliseconds(20))
            }
            return peak
        }
        try await eventually("the pool grows past the old size") {
            (try await spillway.poolCounts()?.servers ?? 0) > 2
        }
        let result = try await bench.value
        sampler.cancel()
        let peak = await sampler.value
        #expect(result.stdout.contains("number of failed transactions: 0 "), "\(result.stdout)\n\(result.stderr)")
        #expect(peak <= 5, "saw \(peak) backends with default_pool_size 5")

        try (original + "\npool_mode = sessoin\n").write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try await admin(spillway, "RELOAD")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("spillway.ini:") && refused.stderr.contains("pool_mode"), "\(refused.stderr)")
        let config = try await admin(spillway, "SHOW CONFIG")
        #expect(config.stdout.split(separator: "\n").contains("default_pool_size|5|20|yes"), "\(config.stdout)")
    }

    /// SET changes a reloadable setting at once and refuses the others; KILL closes the database's clients
    /// and leaves it paused until RESUME.
    @Test func setAndKill() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let set = try await admin(spillway, "SET default_pool_size = 3")
        #expect(set.status == 0, "\(set.stderr)")
        let config = try await admin(spillway, "SHOW CONFIG")
        #expect(config.stdout.split(separator: "\n").contains { $0.hasPrefix("default_pool_size|3|") }, "\(config.stdout)")
        let fixed = try await admin(spillway, "SET listen_port = 1")
        #expect(fixed.stderr.contains("cannot be changed while running"), "\(fixed.stderr)")
        let unknown = try await admin(spillway, "SET no_such_thing = 1")
        #expect(unknown.stderr.contains("unknown setting"), "\(unknown.stderr)")

        let victim = try await spillway.connect()
        _ = try await victim.query("select 1", logger: .init(label: "t")).collect()
        #expect(try await admin(spillway, "KILL \(TestCluster.database)").status == 0)
        try await eventually("the database's client is closed") { victim.isClosed }
        let next = try await spillway.connect()
        let waiting = Task { try await next.query("select 5::int8", logger: .init(label: "t")).collect() }
        try await eventually("the killed database stays paused") {
            let pools = try await admin(spillway, "SHOW POOLS")
            return pools.stdout.split(separator: "\n").contains { $0.hasPrefix("\(TestCluster.database)|") && $0.split(separator: "|")[3] == "1" }
        }
        #expect(try await admin(spillway, "RESUME \(TestCluster.database)").status == 0)
        #expect(try await waiting.value.count == 1)
        try await next.close()
    }
}
