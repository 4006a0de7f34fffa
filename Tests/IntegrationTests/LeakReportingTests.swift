import Foundation
import PostgresWire
import SpillwayTools
import Testing

/// Naming the culprit and keeping doors open: SHOW LEAKS / APPLICATIONS, per-application admission, the
/// server budget read from PostgreSQL, break-glass users and the console while every server is pinned.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LeakReportingTests {
    private func client(
        _ spillway: SpillwayUnderTest, application: String? = nil, user: String = TestCluster.scramUser,
        password: String = TestCluster.scramPassword
    ) async throws -> WireClient {
        try await WireClient.connect(.init(
            host: "127.0.0.1", port: spillway.port, user: user, password: password, database: TestCluster.database,
            applicationName: application))
    }

    private func console(_ spillway: SpillwayUnderTest) async throws -> WireClient {
        try await WireClient.connect(.init(
            host: "127.0.0.1", port: spillway.port, user: TestCluster.scramUser, password: TestCluster.scramPassword,
            database: "pgbouncer"))
    }

    /// A client left idle in a transaction past leak_warn_after is logged once and listed by SHOW LEAKS with
    /// its application name and last statement; SHOW APPLICATIONS and /metrics count it.
    @Test func showLeaksNamesTheLeakedClient() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: [
            "admin_users = \(TestCluster.scramUser)", "leak_warn_after = 1",
            "metrics_listen_addr = 127.0.0.1", "metrics_listen_port = 0",
        ])
        defer { Task { await spillway.stop() } }
        let leaky = try await client(spillway, application: "nightly-job")
        try await leaky.query("begin")
        try await leaky.query("select 'item 42' as leaked_here")
        let api = try await client(spillway, application: "api")
        try await api.query("select 1")
        let admin = try await console(spillway)
        try await eventually(timeout: .seconds(10), "SHOW LEAKS lists the leaked client") {
            let rows = try await admin.query("SHOW LEAKS").rows
            return rows.contains { $0[0] == "idle_in_transaction" && $0[1] == "nightly-job" }
        }
        let leaks = try await admin.query("SHOW LEAKS")
        #expect(leaks.columns == [
            "kind", "application", "user", "database", "addr", "port", "client", "connected_s", "in_transaction_s",
            "idle_s", "last_statement",
        ])
        let row = try #require(leaks.rows.first { $0[1] == "nightly-job" })
        #expect(row[2] == TestCluster.scramUser && row[3] == TestCluster.database && row[4] == "127.0.0.1")
        #expect(row[10] == "select 'item 42' as leaked_here", "\(row)")
        #expect(!leaks.rows.contains { $0[1] == "api" })

        let applications = try await admin.query("SHOW APPLICATIONS")
        let job = try #require(applications.rows.first { $0[0] == "nightly-job" })
        #expect(job[4] == "1", "nightly-job holds one server: \(job)")
        #expect(job[7] == "1" && job[8] == "1", "one suspected leak: \(job)")
        let apiRow = try #require(applications.rows.first { $0[0] == "api" })
        #expect(apiRow[2] == "1" && apiRow[7] == "0", "\(apiRow)")

        let warnings = spillway.logs.text.split(separator: "\n").filter { $0.contains("suspected leak: client idle in transaction") }
        #expect(warnings.count == 1, "one warning per suspicion: \(warnings)")
        #expect(warnings.first?.contains("app=nightly-job") == true && warnings.first?.contains("last_statement=select 'item 42'") == true)

        let metrics = try await httpGet(port: try #require(spillway.metricsPort), path: "/metrics")
        let text = try PrometheusText(parsing: metrics.body)
        #expect(text.value("spillway_application_leaks_suspected", labels: ["application": "nightly-job"]) == 1)
        #expect(text.value("spillway_application_servers_held", labels: ["application": "nightly-job"]) == 1)
        try await leaky.query("rollback")
        await leaky.close()
        await api.close()
        await admin.close()
    }

    /// max_client_conn = 25 and every client from one application: 25 get in (nobody else is crowded out, so
    /// the top application is not refused early) and the 26th gets 53300 naming max_client_conn.
    @Test func singleApplicationGetsExactlyMaxClientConn() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["max_client_conn = 25"])
        defer { Task { await spillway.stop() } }
        var clients: [WireClient] = []
        for index in 0..<25 {
            let client = try await client(spillway, application: "api")
            try await client.query("select \(index)")
            clients.append(client)
        }
        do {
            let extra = try await client(spillway, application: "api")
            try await extra.query("select 26")
            Issue.record("the 26th client was admitted")
        } catch let error as WireClientError {
            #expect(error.sqlState == "53300", "\(error)")
            #expect(error.description.contains("max_client_conn"), "\(error)")
        }
        for client in clients { await client.close() }
    }

    /// Past 80% of max_client_conn the application holding the most connections is refused (53300 naming it)
    /// while another application still gets in; an application's own max_client_connections refuses too.
    @Test func admissionNearExhaustionRefusesTheTopApplication() async throws {
        let spillway = try await SpillwayUnderTest.start(
            settings: ["max_client_conn = 10"], applications: ["capped = max_client_connections=1"])
        defer { Task { await spillway.stop() } }
        // Another application is present: the hog crowds it out near exhaustion.
        let first = try await client(spillway, application: "api")
        try await first.query("select 1")
        var hogs: [WireClient] = []
        for _ in 0..<7 { hogs.append(try await client(spillway, application: "hog")) }
        do {
            let extra = try await client(spillway, application: "hog")
            try await extra.query("select 1")
            Issue.record("the ninth connection of the top application was admitted")
        } catch let error as WireClientError {
            #expect(error.sqlState == "53300", "\(error)")
            #expect(error.description.contains("application \"hog\" holds the most client connections (7)"), "\(error)")
        }
        let other = try await client(spillway, application: "api")
        try await other.query("select 1")
        for hog in hogs { await hog.close() }
        hogs = []

        let capped = try await client(spillway, application: "capped")
        do {
            let second = try await client(spillway, application: "capped")
            try await second.query("select 1")
            Issue.record("max_client_connections=1 let a second client in")
        } catch let error as WireClientError {
            #expect(error.sqlState == "53300")
            #expect(error.description.contains("max_client_connections 1"), "\(error)")
        }
        for hog in hogs { await hog.close() }
        await first.close()
        await other.close()
        await capped.close()
    }

    /// server_connection_budget = auto against a server with max_connections 20: (20 - 3 reserved - 5
    /// headroom) = 12 servers at most, though the pool allows 50 and 30 clients want one at once.
    @Test func autoBudgetHoldsAgainstASmallServer() async throws {
        let cluster = try await ThrowawayCluster.start(maxConnections: 20)
        do {
            let superuser = try await WireClient.connect(cluster.superuserConfiguration())
            try await superuser.query("create role budget_app login password 'budget_pass'")
            let spillway = try await SpillwayUnderTest.start(
                settings: ["default_pool_size = 50", "auth_type = plain"],
                databases: ["postgres = host=127.0.0.1 port=\(cluster.port) dbname=postgres"],
                authFile: ["\"budget_app\" \"budget_pass\""])
            let sampler = Task {
                var peak = 0
                while !Task.isCancelled {
                    let count = try? await superuser.query(
                        "select count(*) from pg_stat_activity where usename = 'budget_app'").rows.first?.first ?? nil
                    peak = max(peak, Int(count ?? "0") ?? 0)
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return peak
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        let app = try await WireClient.connect(.init(
                            host: "127.0.0.1", port: spillway.port, user: "budget_app", password: "budget_pass",
                            database: "postgres"))
                        for _ in 0..<3 { try await app.query("select pg_sleep(0.2)", timeout: .seconds(30)) }
                        await app.close()
                    }
                }
                try await group.waitForAll()
            }
            sampler.cancel()
            let peak = await sampler.value
            #expect(peak <= 12, "saw \(peak) backends; the budget is 12")
            #expect(peak >= 6, "the sampler saw only \(peak): is it measuring anything?")
            #expect(spillway.logs.text.contains("budget=12"), "\(spillway.logs.text.suffix(3000))")
            await spillway.stop()
            await superuser.close()
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    /// Every application server is pinned by long queries: the admin console still answers at once, and a
    /// break-glass user runs a query on its own reserved server.
    @Test func consoleAndBreakGlassWorkWhileEveryServerIsPinned() async throws {
        let spillway = try await SpillwayUnderTest.start(
            settings: [
                "admin_users = \(TestCluster.scramUser)", "default_pool_size = 2", "reserve_pool_size = 0",
                "break_glass_users = \(TestCluster.md5User)",
            ],
            authFile: [
                "\"\(TestCluster.scramUser)\" \"\(try await TestCluster.storedSecret(TestCluster.scramUser))\"",
                "\"\(TestCluster.md5User)\" \"\(TestCluster.md5Password)\"",
            ])
        defer { Task { await spillway.stop() } }
        var pinners: [Task<Void, Error>] = []
        for _ in 0..<4 {
            pinners.append(Task {
                let app = try await client(spillway)
                try await app.query("select pg_sleep(4)", timeout: .seconds(30))
                await app.close()
            })
        }
        try await eventually("both servers are pinned and others wait") {
            guard let counts = try await spillway.poolCounts()
            else { return false }
            return counts.active == 2 && counts.waiting >= 1
        }
        let started = ContinuousClock.now
        let admin = try await console(spillway)
        let pools = try await admin.query("SHOW POOLS", timeout: .seconds(2))
        #expect(!pools.rows.isEmpty)
        let operatorClient = try await client(
            spillway, user: TestCluster.md5User, password: TestCluster.md5Password)
        let answer = try await operatorClient.query("select 'break glass'", timeout: .seconds(2))
        #expect(answer.rows.first?.first == "break glass")
        #expect(ContinuousClock.now - started < .seconds(2), "console and break-glass must not wait for the pinned pool")
        // The pinners' own outcome is not what this test is about.
        for pinner in pinners { _ = try? await pinner.value }
        await admin.close()
        await operatorClient.close()
    }
}
