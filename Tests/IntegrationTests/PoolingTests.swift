import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import Testing

/// Spillway in front of the real PostgreSQL that scripts/test starts, driven by psql, pgbench and PostgresNIO.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PoolingTests {
    /// psql runs `select 1` through Spillway over TCP and over the Unix socket, in every pool mode.
    @Test(arguments: ["session", "transaction", "statement"])
    func psqlSelectOneOverTCPAndUnixSocket(mode: String) async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["pool_mode = \(mode)"])
        defer { Task { await spillway.stop() } }
        for unix in [false, true] {
            let result = try await spillway.psql(["select 1"], unixSocket: unix)
            #expect(result.status == 0, "psql failed (unix: \(unix)): \(result.stderr)\n\(spillway.logs.text)")
            #expect(result.stdout == "1\n")
        }
    }

    /// A client logs in with SCRAM and Spillway logs in to PostgreSQL with the keys of that exchange.
    @Test func scramClientLoginAndScramServerLoginFromStoredSecret() async throws {
        let spillway = try await SpillwayUnderTest.start()
        defer { Task { await spillway.stop() } }
        let result = try await spillway.psql(["select current_user"])
        #expect(result.status == 0, "\(result.stderr)\n\(spillway.logs.text)")
        #expect(result.stdout == "\(TestCluster.scramUser)\n")
    }

    /// md5 client login against a plain auth_file password; Spillway answers PostgreSQL's md5 request.
    @Test func md5ClientAndServerLogin() async throws {
        let spillway = try await SpillwayUnderTest.start(
            settings: ["auth_type = md5"], authFile: ["\"\(TestCluster.md5User)\" \"\(TestCluster.md5Password)\""])
        defer { Task { await spillway.stop() } }
        let result = try await spillway.psql(["select current_user"], user: TestCluster.md5User,
                                             password: TestCluster.md5Password)
        #expect(result.status == 0, "\(result.stderr)\n\(spillway.logs.text)")
        #expect(result.stdout == "\(TestCluster.md5User)\n")
    }

    /// A wrong password and an unknown user get the same 28P01, so role names cannot be probed.
    @Test func wrongPasswordAndUnknownUserGet28P01() async throws {
        let spillway = try await SpillwayUnderTest.start()
        defer { Task { await spillway.stop() } }
        for (user, password) in [(TestCluster.scramUser, "wrong"), ("nobody_here", "whatever")] {
            do {
                let connection = try await spillway.connect(user: user, password: password)
                try? await connection.close()
                Issue.record("login as \(user) with a wrong password succeeded")
            } catch {
                #expect(sqlState(of: error) == "28P01", "\(String(reflecting: error))")
            }
        }
    }

    /// An unknown database is refused with 3D000 and a message naming it.
    @Test func unknownDatabaseGets3D000() async throws {
        let spillway = try await SpillwayUnderTest.start()
        defer { Task { await spillway.stop() } }
        do {
            let connection = try await spillway.connect(database: "orders")
            try? await connection.close()
            Issue.record("login to an unknown database succeeded")
        } catch {
            #expect(sqlState(of: error) == "3D000", "\(String(reflecting: error))")
        }
        let result = try await spillway.psql(["select 1"], database: "orders")
        #expect(result.stderr.contains("no such database: \"orders\""), "\(result.stderr)")
    }

    /// 200 concurrent clients × 20 transactions through a pool of 10: all succeed, never more than 10 backends.
    @Test(.timeLimit(.minutes(3)))
    func twoHundredClientsShareTenServers() async throws {
        let role = "spillway_burst"
        _ = try await TestCluster.superuser("""
            do $$ begin
              if not exists (select from pg_roles where rolname = '\(role)') then
                create role \(role) login password 'burst_pass';
              end if;
            end $$;
            """)
        let spillway = try await SpillwayUnderTest.start(
            settings: ["default_pool_size = 10", "query_wait_timeout = 120", "reserve_pool_size = 0"],
            authFile: ["\"\(role)\" \"burst_pass\""])
        defer { Task { await spillway.stop() } }

        let sampling = Task {
            var peak = 0
            while !Task.isCancelled {
                peak = max(peak, (try? await TestCluster.backendCount(user: role)) ?? 0)
                try? await Task.sleep(for: .milliseconds(20))
            }
            return peak
        }
        let succeeded = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<200 {
                group.addTask {
                    let connection = try await spillway.connect(user: role, password: "burst_pass")
                    var done = 0
                    for i in 0..<20 {
                        let rows = try await connection.query("select \(client * 100 + i)::int8 as n", logger: .init(label: "t"))
                        for try await row in rows {
                            if try row.decode(Int.self) == client * 100 + i { done += 1 }
                        }
                    }
                    try await connection.close()
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        sampling.cancel()
        let peak = await sampling.value
        #expect(succeeded == 200 * 20)
        #expect(peak <= 10, "saw \(peak) backends for \(role)")
        #expect(peak >= 1, "the sampler never saw a backend: is it measuring anything?")
    }

    /// pgbench -S with 50 clients, simple and extended protocol: zero failed transactions.
    @Test(.timeLimit(.minutes(3)), arguments: ["simple", "extended"])
    func pgbenchSelectOnlyHasNoFailures(protocolMode: String) async throws {
        try await PgbenchData.ensure()
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 10"])
        defer { Task { await spillway.stop() } }
        let cluster = try TestCluster.info()
        let result = try await Shell.run(
            "\(cluster.bin)/pgbench",
            ["-n", "-S", "-M", protocolMode, "-c", "50", "-j", "2", "-T", "5",
             "host=127.0.0.1 port=\(spillway.port) dbname=\(TestCluster.database) user=\(TestCluster.scramUser)"],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
        #expect(result.status == 0, "\(result.stderr)\n\(spillway.logs.text.suffix(4000))")
        #expect(result.stdout.contains("number of failed transactions: 0 "), "\(result.stdout)")
        let processed = result.stdout.split(separator: "\n")
            .first { $0.hasPrefix("number of transactions actually processed:") }
            .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(processed > 100, "\(result.stdout)")
    }

    /// A query cancelled through Spillway (psql gets SIGINT, sends CancelRequest) ends with 57014 quickly.
    @Test func cancelRequestReachesTheServer() async throws {
        let spillway = try await SpillwayUnderTest.start()
        defer { Task { await spillway.stop() } }
        let cluster = try TestCluster.info()
        let started = ContinuousClock.now
        // timeout(1) sends SIGINT to psql after 1 s; psql answers it with a CancelRequest, as a user's Ctrl-C.
        let result = try await Shell.run(
            "timeout",
            ["-s", "INT", "1", "\(cluster.bin)/psql", "-X", "-At", "-v", "VERBOSITY=verbose",
             "host=127.0.0.1 port=\(spillway.port) dbname=\(TestCluster.database) user=\(TestCluster.scramUser)",
             "-c", "select pg_sleep(30)"],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
        let elapsed = ContinuousClock.now - started
        #expect(result.stderr.contains("57014"), "\(result.stderr)\n\(spillway.logs.text)")
        // 1 s until the cancel is sent, then well under a second for it to land.
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    /// pg_terminate_backend on Spillway's servers mid-traffic: the pool recovers and later queries succeed.
    @Test func poolRecoversFromTerminatedServers() async throws {
        // Its servers carry their own application_name, so that only they are terminated, not those of other
        // suites running meanwhile as the same role.
        let cluster = try TestCluster.info()
        let spillway = try await SpillwayUnderTest.start(
            settings: ["default_pool_size = 4"],
            databases: [
                "\(TestCluster.database) = host=127.0.0.1 port=\(cluster.port) dbname=\(TestCluster.database) "
                    + "application_name=pool-recovery-test"
            ])
        defer { Task { await spillway.stop() } }
        let connections = try await withThrowingTaskGroup(of: PostgresConnection.self) { group in
            for _ in 0..<8 { group.addTask { try await spillway.connect() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    for _ in 0..<30 {
                        _ = try? await connection.query("select pg_sleep(0.01)", logger: .init(label: "t")).collect()
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(100))
                let terminated = try await TestCluster.superuser("""
                    select pg_terminate_backend(pid) from pg_stat_activity
                    where usename = '\(TestCluster.scramUser)' and datname = '\(TestCluster.database)'
                      and application_name = 'pool-recovery-test' and pid <> pg_backend_pid()
                    """)
                #expect(terminated.contains("t"), "no server of this Spillway was terminated: \(terminated)")
            }
            try await group.waitForAll()
        }
        for connection in connections {
            let rows = try await connection.query("select 42::int8", logger: .init(label: "t"))
            var value = 0
            for try await row in rows { value = try row.decode(Int.self) }
            #expect(value == 42)
            try await connection.close()
        }
    }

    /// Statement mode refuses a transaction block with a clear error; the client keeps working.
    @Test func statementModeRefusesTransactionBlocks() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["pool_mode = statement"])
        defer { Task { await spillway.stop() } }
        let result = try await spillway.psql(["BEGIN", "select 1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("0A000"), "\(result.stderr)")
        #expect(result.stderr.contains("transaction blocks are not allowed in pool_mode statement"), "\(result.stderr)")
        let after = try await spillway.psql(["select 2"])
        #expect(after.stdout == "2\n", "\(after.stderr)")
    }

    /// Two clients with different application_name and DateStyle share one server and each sees only its own.
    @Test func trackedParametersFollowEachClient() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 1"])
        defer { Task { await spillway.stop() } }
        let a = try await spillway.psql(["show application_name", "set DateStyle = 'SQL, DMY'", "show DateStyle"],
                                        extraArguments: [])
        #expect(a.stdout == "psql\nSET\nSQL, DMY\n", "\(a.stderr)")
        let b = try await Shell.run(
            "\(try TestCluster.info().bin)/psql",
            ["-X", "-At", "host=127.0.0.1 port=\(spillway.port) dbname=\(TestCluster.database) user=\(TestCluster.scramUser) application_name=other",
             "-c", "show application_name", "-c", "show DateStyle"],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
        #expect(b.stdout == "other\nISO, MDY\n", "\(b.stderr)")
    }

    /// A client that disconnects inside a transaction: its server is rolled back before the next client uses it.
    @Test func disconnectInsideTransactionRollsBackBeforeReuse() async throws {
        _ = try await TestCluster.superuser("""
            create table if not exists it_rollback (id int);
            grant all on it_rollback to \(TestCluster.scramUser);
            truncate it_rollback;
            """)
        let spillway = try await SpillwayUnderTest.start(settings: ["default_pool_size = 1"])
        defer { Task { await spillway.stop() } }
        let leaver = try await spillway.connect()
        _ = try await leaver.query("begin", logger: .init(label: "t")).collect()
        _ = try await leaver.query("insert into it_rollback values (1)", logger: .init(label: "t")).collect()
        try await leaver.close()
        let next = try await spillway.connect()
        let rows = try await next.query(
            "select count(*)::int8, pg_current_xact_id_if_assigned() is null from it_rollback", logger: .init(label: "t"))
        for try await (count, fresh) in rows.decode((Int, Bool).self) {
            #expect(count == 0)
            #expect(fresh, "the next client ran inside the previous client's transaction")
        }
        try await next.close()
    }
}

/// pgbench's tables, created once per run directly in PostgreSQL.
enum PgbenchData {
    private static let done = NIOLockedValueBox(false)

    static func ensure() async throws {
        if done.withLockedValue({ $0 }) { return }
        let cluster = try TestCluster.info()
        let result = try await Shell.run(
            "\(cluster.bin)/pgbench",
            ["-i", "-q", "-s", "1", "-h", cluster.socketDir, "-p", "\(cluster.port)", "-U", "postgres", TestCluster.database])
        guard result.status == 0 else { throw HarnessError("pgbench -i failed: \(result.stderr)") }
        _ = try await TestCluster.superuser("grant select on all tables in schema public to \(TestCluster.scramUser)")
        done.withLockedValue { $0 = true }
    }
}
