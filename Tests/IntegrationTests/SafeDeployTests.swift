import Foundation
import PostgresWire
import SpillwayTools
import Testing

/// Spillway as operators deploy it: an unprivileged service user, a leak guard that never kills a healthy
/// transaction, limits that mean what PgBouncer's mean, and process settings (logfile, pidfile) that work.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SafeDeployTests {
    private func psqlScript(_ spillway: SpillwayUnderTest, _ script: String, application: String) async throws
        -> Shell.Result
    {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/script.sql"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let cluster = try TestCluster.info()
        return try await Shell.run(
            "\(cluster.bin)/psql",
            ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-f", path,
             "host=127.0.0.1 port=\(spillway.port) dbname=\(TestCluster.database) user=\(TestCluster.scramUser) "
                + "application_name=\(application)"],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
    }

    private func pgbench(_ spillway: SpillwayUnderTest, _ arguments: [String]) async throws -> Shell.Result {
        let cluster = try TestCluster.info()
        return try await Shell.run(
            "\(cluster.bin)/pgbench",
            arguments + ["host=127.0.0.1 port=\(spillway.port) dbname=\(TestCluster.database) user=\(TestCluster.scramUser)"],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
    }

    private static func grantPgbenchTables() async throws {
        try await PgbenchData.ensure()
        _ = try await TestCluster.superuser("grant all on all tables in schema public to \(TestCluster.scramUser)")
    }

    // MARK: Unprivileged

    /// The Spillway every integration test starts is not root (when the suite runs as root, it is the test user),
    /// and psql works through it over TCP and over the Unix socket.
    @Test func spillwayUnderTestIsNotRootAndServesTCPAndUnixSocket() async throws {
        let spillway = try await SpillwayUnderTest.start()
        defer { Task { await spillway.stop() } }
        let uid = try #require(spillway.process.effectiveUID())
        #expect(uid != 0, "spillway runs as root in tests")
        if let identity = try SpillwayProcess.unprivilegedIdentity() { #expect(uid == identity.uid) }
        for unix in [false, true] {
            let result = try await spillway.psql(["select 'served'"], unixSocket: unix)
            #expect(result.stdout == "served\n", "unix \(unix): \(result.stderr)\n\(spillway.logs.text)")
        }
    }

    // MARK: Contention without casualties

    /// pgbench's default TPC-B-like script, 60 clients on a pool of 20 for 10 s: not one failed transaction.
    @Test func pgbenchDefaultScriptWithSixtyClientsOnTwentyServersLosesNothing() async throws {
        try await Self.grantPgbenchTables()
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 20", "reserve_pool_size = 0"])
        defer { Task { await spillway.stop() } }
        let result = try await pgbench(spillway, ["-n", "-c", "60", "-j", "2", "-T", "10"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("number of failed transactions: 0 "), "\(result.stdout)\n\(result.stderr)")
        #expect(!spillway.logs.text.contains("leak guard reclaimed"), "\(spillway.logs.text.suffix(2000))")
    }

    /// 40 clients that pause up to 400 ms between statements inside their transactions, on a pool of 20: every
    /// transaction commits, none is reclaimed.
    @Test func fortyClientsPausingInsideTransactionsAllCommit() async throws {
        try await Self.grantPgbenchTables()
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 20", "reserve_pool_size = 0"])
        defer { Task { await spillway.stop() } }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = """
            \\set aid random(1, 100000)
            \\set pause random(0, 400)
            BEGIN;
            SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
            \\sleep :pause ms
            UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
            \\sleep :pause ms
            END;
            """
        try script.write(toFile: "\(directory)/pausing.sql", atomically: true, encoding: .utf8)
        let result = try await pgbench(spillway, ["-n", "-c", "40", "-j", "2", "-T", "8", "-f", "\(directory)/pausing.sql"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("number of failed transactions: 0 "), "\(result.stdout)\n\(result.stderr)")
        #expect(!spillway.logs.text.contains("leak guard reclaimed"), "\(spillway.logs.text.suffix(2000))")
    }

    /// pool_size = 1: a client pauses 1.5 s inside its transaction while another waits; the first commits and the
    /// second is served afterwards.
    @Test func poolOfOnePauseInsideTransactionCommitsThenTheWaiterIsServed() async throws {
        _ = try await TestCluster.superuser("""
            create table if not exists it_pause (who text);
            grant all on it_pause to \(TestCluster.scramUser);
            truncate it_pause;
            """)
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 1", "reserve_pool_size = 0"])
        defer { Task { await spillway.stop() } }
        let first = Task {
            try await psqlScript(
                spillway, "BEGIN;\nINSERT INTO it_pause VALUES ('first');\n\\! sleep 1.5\nCOMMIT;\n", application: "pause_a")
        }
        try await eventually("the first client is idle inside its transaction") {
            let rows = try await TestCluster.superuser(
                "select count(*) from pg_stat_activity where application_name = 'pause_a' and state = 'idle in transaction'")
            return rows == ["1"]
        }
        let second = try await psqlScript(spillway, "INSERT INTO it_pause VALUES ('second');\n", application: "pause_b")
        let firstResult = try await first.value
        #expect(firstResult.status == 0, "the paused transaction was killed: \(firstResult.stderr)")
        #expect(second.status == 0, "\(second.stderr)")
        let rows = try await TestCluster.superuser("select string_agg(who, ',' order by ctid) from it_pause")
        #expect(rows == ["first,second"], "\(spillway.logs.text.suffix(2000))")
    }

    // MARK: Limits

    /// max_db_client_connections and max_user_client_connections admit exactly their number; the next gets 53300.
    @Test(arguments: [
        ("max_db_client_connections = 2", "max_db_client_connections"),
        ("max_user_client_connections = 2", "max_user_client_connections"),
    ])
    func clientConnectionLimitsAdmitExactlyTheirNumber(setting: String, name: String) async throws {
        let spillway = try await SpillwayUnderTest.start(settings: [setting])
        defer { Task { await spillway.stop() } }
        func client() async throws -> WireClient {
            try await WireClient.connect(.init(
                host: "127.0.0.1", port: spillway.port, user: TestCluster.scramUser,
                password: TestCluster.scramPassword, database: TestCluster.database))
        }
        var clients: [WireClient] = []
        for _ in 0..<2 {
            let connected = try await client()
            _ = try await connected.query("select 1")
            clients.append(connected)
        }
        do {
            let third = try await client()
            _ = try await third.query("select 1")
            Issue.record("a third client was admitted under \(setting)")
        } catch let error as WireClientError {
            #expect(error.sqlState == "53300", "\(error)")
            #expect(error.description.contains(name), "\(error)")
        }
        await clients[0].close()
        try await eventually("a slot frees when a client leaves") {
            guard let again = try? await client() else { return false }
            defer { Task { await again.close() } }
            return (try? await again.query("select 1")) != nil
        }
        for client in clients.dropFirst() { await client.close() }
    }

    /// transaction_timeout = 1: a transaction left open for 2 s ends with 25P04; the next client is served.
    @Test func transactionTimeoutEndsALongTransaction() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["transaction_timeout = 1"])
        defer { Task { await spillway.stop() } }
        let result = try await psqlScript(
            spillway, "\\set VERBOSITY verbose\nBEGIN;\nSELECT 1;\n\\! sleep 2\nSELECT 2;\nCOMMIT;\n", application: "slow")
        #expect(result.status != 0)
        #expect(result.stderr.contains("25P04") && result.stderr.contains("transaction_timeout"), "\(result.stderr)")
        let next = try await spillway.psql(["select 'next'"])
        #expect(next.stdout == "next\n", "\(next.stderr)")
    }

    /// query_wait_notify = 1: a client that waits for a server longer than that gets one NOTICE saying so, and
    /// its query still runs when the server is free.
    @Test func queryWaitNotifyTellsTheWaitingClient() async throws {
        let spillway = try await SpillwayUnderTest.start(
            settings: ["default_pool_size = 1", "reserve_pool_size = 0", "query_wait_notify = 1"])
        defer { Task { await spillway.stop() } }
        let holder = Task { try await spillway.psql(["select pg_sleep(6)"]) }
        try await eventually("the only server is busy") {
            let rows = try await TestCluster.superuser(
                "select count(*) from pg_stat_activity where query = 'select pg_sleep(6)' and state = 'active'")
            return rows == ["1"]
        }
        let waiter = try await spillway.psql(["select 'served after the wait'"])
        #expect(waiter.stdout == "served after the wait\n", "\(waiter.stderr)")
        #expect(waiter.stderr.contains("waiting for a server connection (query_wait_notify)"), "\(waiter.stderr)")
        #expect(waiter.stderr.components(separatedBy: "query_wait_notify").count == 2, "one notice: \(waiter.stderr)")
        _ = try await holder.value
    }

    // MARK: Protocol

    /// A logged-in client that sends message type 0xFE gets 08P01 naming it and is closed; the next client of the
    /// same pool works.
    @Test func unknownMessageTypeAfterLoginGets08P01AndClose() async throws {
        // trust, with the md5 role's plain password in auth_file for Spillway's own login to the server.
        let spillway = try await SpillwayUnderTest.start(
            settings: ["auth_type = trust"], authFile: ["\"\(TestCluster.md5User)\" \"\(TestCluster.md5Password)\""])
        defer { Task { await spillway.stop() } }
        var startup: [UInt8] = []
        var body: [UInt8] = [0, 3, 0, 0]  // protocol 3.0
        for (key, value) in [("user", TestCluster.md5User), ("database", TestCluster.database)] {
            body += Array(key.utf8) + [0] + Array(value.utf8) + [0]
        }
        body.append(0)
        let length = UInt32(body.count + 4)
        startup += withUnsafeBytes(of: length.bigEndian, Array.init) + body
        // A query first, so the server connection is in use, then the bad type.
        let query = Array("select 1".utf8) + [0]
        let queryLength = withUnsafeBytes(of: UInt32(query.count + 4).bigEndian, Array.init)
        startup += [MessageType.query.rawValue] + queryLength + query
        startup += [0xFE, 0, 0, 0, 4]
        let port = spillway.port
        let received = try await Task.detached { try loopbackExchange(port: port, send: startup) }.value
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.contains("08P01"), "\(text)")
        #expect(text.contains("0xFE"), "\(text)")
        let next = try await spillway.psql(
            ["select 'still serving'"], user: TestCluster.md5User, password: TestCluster.md5Password)
        #expect(next.stdout == "still serving\n", "\(next.stderr)\n\(spillway.logs.text.suffix(2000))")
    }

    // MARK: RELOAD

    /// RELOAD answers once the new file is in force: SHOW CONFIG and SHOW DATABASES in the same console session
    /// show the new default_pool_size.
    @Test func reloadThenShowConfigInTheSameSessionShowsTheNewValue() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["admin_users = \(TestCluster.scramUser)"])
        defer { Task { await spillway.stop() } }
        let path = "\(spillway.directory)/spillway.ini"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try original.replacingOccurrences(of: "default_pool_size = 10", with: "default_pool_size = 7")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await spillway.psql(["RELOAD", "SHOW CONFIG", "SHOW DATABASES"], database: "pgbouncer")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("default_pool_size|7|") }, "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("\(TestCluster.database)|")
            && $0.split(separator: "|", omittingEmptySubsequences: false)[5] == "7" },
                "\(result.stdout)")
    }

    // MARK: logfile

    /// logfile: lines are appended; after logrotate moves the file away, SIGHUP opens a new one at the path.
    @Test func logfileIsReopenedOnSighup() async throws {
        let spillway = try await SpillwayUnderTest.start()
        defer { Task { await spillway.stop() } }
        let log = "\(spillway.directory)/spillway.log"
        #expect(spillway.logs.text.contains("listening"))
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        spillway.process.signal(SIGHUP)
        try await eventually("a new log file holds the reload") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("configuration reloaded")
        }
        let rotated = try String(contentsOfFile: log + ".1", encoding: .utf8)
        #expect(rotated.contains("listening") && !rotated.contains("configuration reloaded"))
    }
}
