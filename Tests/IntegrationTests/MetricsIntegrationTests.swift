import Foundation
import PostgresNIO
import Testing

/// `/metrics` and `/healthz` on the metrics listener, and the SHOW STATS counters behind them, against real
/// traffic through Spillway.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MetricsIntegrationTests {
    private func start() async throws -> SpillwayUnderTest {
        try await SpillwayUnderTest.start(settings: [
            "admin_users = \(TestCluster.scramUser)", "metrics_listen_addr = 127.0.0.1", "metrics_listen_port = 0",
        ])
    }

    private func scrape(_ spillway: SpillwayUnderTest) async throws -> PrometheusText {
        let response = try await httpGet(port: try #require(spillway.metricsPort), path: "/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        return try PrometheusText(parsing: response.body)
    }

    /// The exposition parses, follows the naming conventions, and its counters move with traffic.
    @Test func metricsParseAndCountersMoveWithTraffic() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let app = try await spillway.connect()
        _ = try await app.query("select 1", logger: .init(label: "t")).collect()
        let pool = ["database": TestCluster.database, "user": TestCluster.scramUser]
        let before = try await scrape(spillway)
        try before.validateConventions()
        let transactionsBefore = try #require(before.value("spillway_pool_transactions_total", labels: pool))
        let sentBefore = try #require(before.value("spillway_pool_sent_bytes_total", labels: pool))
        let receivedBefore = try #require(before.value("spillway_pool_received_bytes_total", labels: pool))
        let waitsBefore = before.value("spillway_pool_wait_seconds_count", labels: pool) ?? 0
        #expect(before.value("spillway_up") == 1)
        #expect(before.value("spillway_event_loops") == 2)
        #expect((before.value("spillway_process_open_fds") ?? 0) > 0)
        #expect((before.value("spillway_process_resident_memory_bytes") ?? 0) > 1_000_000)

        for value in 0..<20 {
            let rows = try await app.query("select \(value)::int8 as n, repeat('x', 100) as pad", logger: .init(label: "t"))
                .collect()
            #expect(rows.count == 1)
        }
        do {
            _ = try await app.query("select * from no_such_table_for_metrics", logger: .init(label: "t")).collect()
            Issue.record("the query of a missing table succeeded")
        } catch {
            #expect(sqlState(of: error) == "42P01")
        }

        let after = try await scrape(spillway)
        try after.validateConventions()
        let transactions = try #require(after.value("spillway_pool_transactions_total", labels: pool))
        #expect(transactions - transactionsBefore >= 20, "transactions \(transactionsBefore) → \(transactions)")
        #expect(try #require(after.value("spillway_pool_sent_bytes_total", labels: pool)) - sentBefore >= 20 * 100)
        #expect(try #require(after.value("spillway_pool_received_bytes_total", labels: pool)) > receivedBefore)
        #expect((after.value("spillway_pool_wait_seconds_count", labels: pool) ?? 0) - waitsBefore >= 20)
        #expect((after.value("spillway_pool_query_seconds_total", labels: pool) ?? 0) > 0)
        #expect(after.value("spillway_errors_total", labels: ["class": "42", "origin": "server"]) == 1)
        #expect(after.value("spillway_pool_clients", labels: pool.merging(["state": "active"]) { $1 }) == 1)
        #expect(after.types["spillway_pool_wait_seconds"] == "histogram")
        #expect(after.types["spillway_pool_transactions_total"] == "counter")
        try await app.close()
    }

    /// /healthz answers 200 while Spillway accepts clients and 503 while paused, then 200 again after RESUME.
    @Test func healthzFlipsDuringPause() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let port = try #require(spillway.metricsPort)
        var health = try await httpGet(port: port, path: "/healthz")
        #expect(health.status == 200 && health.body == "ok\n", "\(health)")

        let paused = try await spillway.psql(["PAUSE"], database: "pgbouncer")
        #expect(paused.status == 0, "\(paused.stderr)")
        health = try await httpGet(port: port, path: "/healthz")
        #expect(health.status == 503 && health.body == "paused\n", "\(health)")
        #expect(try await scrape(spillway).value("spillway_up") == 0)

        let resumed = try await spillway.psql(["RESUME"], database: "pgbouncer")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        health = try await httpGet(port: port, path: "/healthz")
        #expect(health.status == 200, "\(health)")

        #expect(try await httpGet(port: port, path: "/nope").status == 404)
        #expect(try await httpGet(port: port, path: "/metrics", method: "POST").status == 405)
    }

    /// A draining Spillway reports 503 "shutting down" while its last transaction finishes.
    @Test func healthzReportsShutdown() async throws {
        let spillway = try await start()
        let port = try #require(spillway.metricsPort)
        let app = try await spillway.connect()
        _ = try await app.query("begin", logger: .init(label: "t")).collect()
        spillway.process.signal(SIGTERM)
        do {
            try await eventually("healthz reports the shutdown") {
                let health = try await httpGet(port: port, path: "/healthz")
                return health.status == 503 && health.body == "shutting down\n"
            }
            _ = try await app.query("commit", logger: .init(label: "t")).collect()
            try await eventually(timeout: .seconds(20), "spillway exits after the transaction") {
                !spillway.process.isRunning
            }
        } catch {
            try? await app.close()
            await spillway.stop()
            throw error
        }
        try? await app.close()
        await spillway.stop()
    }

    /// SHOW STATS, STATS_TOTALS and TOTALS count the transactions, queries and bytes that went through.
    @Test func showStatsCountsTraffic() async throws {
        let spillway = try await start()
        defer { Task { await spillway.stop() } }
        let app = try await spillway.connect()
        for _ in 0..<10 {
            _ = try await app.query("select 1", logger: .init(label: "t")).collect()
        }
        let stats = try await spillway.psql(["SHOW STATS"], database: "pgbouncer")
        #expect(stats.status == 0, "\(stats.stderr)")
        let row = try #require(stats.stdout.split(separator: "\n").first { $0.hasPrefix("\(TestCluster.database)|") })
            .split(separator: "|", omittingEmptySubsequences: false)
        #expect(row.count == 15, "\(row)")
        #expect(Int(row[1]) ?? 0 >= 10, "total_xact_count in \(row)")
        #expect(Int(row[2]) ?? 0 >= 10, "total_query_count in \(row)")
        #expect(Int(row[3]) ?? 0 > 0 && Int(row[4]) ?? 0 > 0, "bytes in \(row)")
        let totals = try await spillway.psql(["SHOW TOTALS"], database: "pgbouncer")
        #expect(totals.stdout.split(separator: "\n").contains { $0.hasPrefix("total_xact_count|") && Int($0.split(separator: "|")[1]) ?? 0 >= 10 },
                "\(totals.stdout)")
        try await app.close()
    }
}

/// An HTTP/1.0 request to 127.0.0.1 over a plain socket (the server closes after answering).
func httpGet(port: Int, path: String, method: String = "GET") async throws -> HTTPReply {
    try await Task.detached {
        try HTTPReply(loopbackExchange(port: port, send: Array("\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)))
    }.value
}

/// Status, headers (lowercased names) and body of an HTTP response.
struct HTTPReply: CustomStringConvertible {
    var status: Int
    var headers: [String: String]
    var body: String

    init(_ bytes: [UInt8]) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw HarnessError("no HTTP header end in: \(text)") }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        guard let first = lines.first, first.split(separator: " ").count >= 2,
              let status = Int(first.split(separator: " ")[1])
        else { throw HarnessError("bad HTTP status line in: \(text)") }
        self.status = status
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
        body = String(text[split.upperBound...])
    }

    var description: String { "HTTP \(status) \(headers) \(body.prefix(200))" }
}
