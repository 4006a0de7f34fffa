import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Testing

/// The `spillway` executable as an operator runs it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CommandLineTests {
    /// The debug build of the executable next to the test bundle.
    static var binary: String { SpillwayProcess.binary }

    /// A bad value exits 2 with file, line, key and what is allowed — no stack trace.
    @Test func badConfigValueExitsTwoNamingFileLineAndKey() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/bad.ini"
        try "[pgbouncer]\nlisten_port = 6432\npool_mode = sessoin\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await Shell.run(Self.binary, [path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path):3: pool_mode: expected one of session, transaction, statement, got 'sessoin'"),
                "\(result.stderr)")
        let missing = try await Shell.run(Self.binary, ["run", "\(directory)/missing.ini"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("missing.ini"), "\(missing.stderr)")
    }

    /// Started as root without `user`, Spillway refuses (exit 2, saying why and what to set); with `user` it
    /// binds, then runs as that user (uid checked in /proc) and serves. Started unprivileged, `user` naming
    /// another user is refused the same way.
    @Test func rootNeedsUserAndThenDropsPrivileges() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/root.ini"
        try "[pgbouncer]\nlisten_port = 0\nunix_socket_dir =\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard let identity = try SpillwayProcess.unprivilegedIdentity() else {
            // Not root: switching to someone else cannot work, and Spillway says so rather than serve as us.
            try "[pgbouncer]\nlisten_port = 0\nunix_socket_dir =\nuser = root\n".write(
                toFile: path, atomically: true, encoding: .utf8)
            let result = try await Shell.run(Self.binary, [path])
            #expect(result.status == 2)
            #expect(result.stderr.contains("user = root"), "\(result.stderr)")
            return
        }
        let refused = try await Shell.run(Self.binary, [path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("refusing to run as root") && refused.stderr.contains("user = NAME"),
                "\(refused.stderr)")
        let spillway = try await RunningBinary(
            extra: ["pool_mode = transaction", "user = \(SpillwayProcess.testUser)"], asRoot: true)
        try await eventually("spillway switched user") { spillway.launcher.effectiveUID() == identity.uid }
        let result = try await spillway.psql("select 'served by the service user'")
        #expect(result.stdout == "served by the service user\n", "\(result.stderr)")
        let log = try String(contentsOfFile: spillway.logPath, encoding: .utf8)
        #expect(log.contains("switched to the service user after binding"), "\(log)")
        spillway.signal(SIGTERM)
        try await eventually("spillway exits after SIGTERM") { !spillway.process.isRunning }
        #expect(spillway.process.terminationStatus == 0)
    }

    /// pidfile: written with the process id once Spillway listens, a second Spillway with the same pidfile
    /// refuses to start while the first lives, and the file is gone after exit.
    @Test func pidfileIsWrittenGuardsAndRemoved() async throws {
        let pidDirectory = try makeTemporaryDirectory()
        try SpillwayProcess.handOver(pidDirectory)
        defer { try? FileManager.default.removeItem(atPath: pidDirectory) }
        let pidPath = "\(pidDirectory)/spillway.pid"
        let spillway = try await RunningBinary(extra: ["pidfile = \(pidPath)"])
        try await eventually("the pid file is written") {
            (try? String(contentsOfFile: pidPath, encoding: .utf8)) == "\(spillway.process.processIdentifier)\n"
        }
        // The second one as the same unprivileged user as the first.
        let second = try SpillwayProcess(ini: spillway.iniPath, stderrPath: "\(pidDirectory)/second.log")
        try await eventually("the second spillway gives up") { !second.isRunning }
        #expect(second.process.terminationStatus != 0)
        #expect(second.stderr.contains("still running"), "\(second.stderr)")
        #expect(spillway.process.isRunning)
        spillway.signal(SIGTERM)
        try await eventually("spillway exits after SIGTERM") { !spillway.process.isRunning }
        #expect(!FileManager.default.fileExists(atPath: pidPath), "the pid file was left behind")
    }

    /// A setting Spillway does not implement, at a value other than PgBouncer's default, stops startup with
    /// exit 2 naming file, line and key.
    @Test func unsupportedSettingStopsStartupNamingFileLineAndKey() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/tls.ini"
        try "[pgbouncer]\nlisten_port = 6432\nclient_tls_sslmode = require\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let result = try await Shell.run(Self.binary, [path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path):3: client_tls_sslmode"), "\(result.stderr)")
        #expect(result.stderr.contains("not supported yet"), "\(result.stderr)")
    }

    /// `spillway CONFIG` serves psql, and SIGTERM stops it with status 0.
    @Test func binaryServesAndStopsOnSigterm() async throws {
        let spillway = try await RunningBinary(extra: ["pool_mode = transaction"])
        let result = try await spillway.psql("select 'through the binary'")
        #expect(result.stdout == "through the binary\n", "\(result.stderr)")
        spillway.signal(SIGTERM)
        try await eventually("spillway exits after SIGTERM") { !spillway.process.isRunning }
        #expect(spillway.process.terminationStatus == 0)
    }

    /// SIGTERM during a transaction: new connections are refused, the transaction still commits, then
    /// Spillway exits 0 well within shutdown_timeout.
    @Test func sigtermLetsTheTransactionFinishThenExits() async throws {
        _ = try await TestCluster.superuser("""
            create table if not exists it_shutdown (id int);
            grant all on it_shutdown to \(TestCluster.scramUser);
            truncate it_shutdown;
            """)
        let spillway = try await RunningBinary(extra: ["pool_mode = transaction", "shutdown_timeout = 20"])
        let directory = spillway.directory
        let port = spillway.port
        let process = spillway.process
        var configuration = PostgresConnection.Configuration(
            host: "127.0.0.1", port: port, username: TestCluster.scramUser, password: TestCluster.scramPassword,
            database: TestCluster.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1,
            logger: Logger(label: "t"))
        _ = try await connection.query("begin", logger: .init(label: "t")).collect()
        _ = try await connection.query("insert into it_shutdown values (1)", logger: .init(label: "t")).collect()

        let signalled = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        try await eventually("spillway stops accepting") {
            !FileManager.default.fileExists(atPath: "\(directory)/.s.PGSQL.\(port)")
        }
        _ = try await connection.query("insert into it_shutdown values (2)", logger: .init(label: "t")).collect()
        _ = try await connection.query("commit", logger: .init(label: "t")).collect()
        try await eventually(timeout: .seconds(20), "spillway exits after the transaction") { !process.isRunning }
        #expect(process.terminationStatus == 0)
        #expect(ContinuousClock.now - signalled < .seconds(20))
        let rows = try await TestCluster.superuser("select count(*) from it_shutdown")
        #expect(rows == ["2"], "the transaction in progress at SIGTERM did not commit")
        try? await connection.close()
        withExtendedLifetime(spillway) {}  // its deinit stops the process and removes the folder
    }

    /// A second SIGTERM while a transaction holds the drain closes at once; so does SIGQUIT. Both exit 0 long
    /// before shutdown_timeout, and the open transaction is rolled back by PostgreSQL, not committed.
    @Test(arguments: [SIGTERM, SIGQUIT])
    func secondSignalOrSigquitClosesAtOnce(second: Int32) async throws {
        let spillway = try await RunningBinary(extra: ["pool_mode = transaction", "shutdown_timeout = 60"])
        let connection = try await spillway.connect()
        _ = try await connection.query("begin", logger: .init(label: "t")).collect()
        _ = try await connection.query("select 1", logger: .init(label: "t")).collect()
        let started = ContinuousClock.now
        if second == SIGTERM { spillway.signal(SIGTERM) }
        try await eventually("the drain has begun") {
            (try? String(contentsOfFile: spillway.logPath, encoding: .utf8))?.contains("draining") == true
                || second == SIGQUIT
        }
        #expect(spillway.process.isRunning, "the drain must wait for the open transaction")
        spillway.signal(second)
        try await eventually(timeout: .seconds(15), "spillway exits at once") { !spillway.process.isRunning }
        #expect(spillway.process.terminationStatus == 0)
        #expect(ContinuousClock.now - started < .seconds(30))
        try? await connection.close()
    }

    /// SIGINT is PgBouncer's safe shutdown: it waits for the transaction however long it takes (here longer
    /// than shutdown_timeout, which only bounds SIGTERM), then exits 0.
    @Test func sigintWaitsForTransactionsWithoutLimit() async throws {
        let spillway = try await RunningBinary(extra: ["pool_mode = transaction", "shutdown_timeout = 1"])
        let connection = try await spillway.connect()
        _ = try await connection.query("begin", logger: .init(label: "t")).collect()
        spillway.signal(SIGINT)
        try await Task.sleep(for: .seconds(2))
        #expect(spillway.process.isRunning, "SIGINT must not give up after shutdown_timeout")
        _ = try await connection.query("commit", logger: .init(label: "t")).collect()
        try await eventually(timeout: .seconds(15), "spillway exits after the commit") { !spillway.process.isRunning }
        #expect(spillway.process.terminationStatus == 0)
        try? await connection.close()
    }

    /// log_format = json: every line Spillway writes is one JSON object with ts, level, msg and the metadata.
    @Test func jsonLogFormatWritesOneObjectPerLine() async throws {
        let spillway = try await RunningBinary(extra: ["pool_mode = transaction", "log_format = json"])
        let result = try await spillway.psql("select 1")
        #expect(result.stdout == "1\n", "\(result.stderr)")
        spillway.signal(SIGTERM)
        try await eventually("spillway exits after SIGTERM") { !spillway.process.isRunning }
        let lines = try String(contentsOfFile: spillway.logPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3)
        var sawLogin = false
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["ts"] is String && object?["level"] is String && object?["msg"] is String, "\(line)")
            if object?["msg"] as? String == "client logged in" {
                sawLogin = true
                #expect(object?["user"] as? String == TestCluster.scramUser, "\(line)")
                #expect(object?["db"] as? String == TestCluster.database, "\(line)")
            }
            #expect(!line.contains(TestCluster.scramPassword), "a password reached the log: \(line)")
        }
        #expect(sawLogin, "no login line in \(lines)")
    }

    /// SIGHUP with a broken file: a log line names file and line, and the running configuration keeps serving.
    @Test func sighupWithInvalidFileKeepsRunning() async throws {
        let spillway = try await RunningBinary(extra: ["admin_users = \(TestCluster.scramUser)"])
        let cluster = try TestCluster.info()
        let directory = spillway.directory
        let port = spillway.port
        let process = spillway.process
        let ini = spillway.ini
        try (ini + "\ndefault_pool_size = lots\n").write(toFile: "\(directory)/spillway.ini", atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await eventually("the refused reload is logged") {
            let log = (try? String(contentsOfFile: "\(directory)/stderr.log", encoding: .utf8)) ?? ""
            return log.contains("reload refused") && log.contains("spillway.ini:10:") && log.contains("default_pool_size")
        }
        #expect(process.isRunning)
        let result = try await Shell.run(
            "\(cluster.bin)/psql",
            ["-X", "-At", "host=127.0.0.1 port=\(port) dbname=\(TestCluster.database) user=\(TestCluster.scramUser)",
             "-c", "select 'still serving'"],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
        #expect(result.stdout == "still serving\n", "\(result.stderr)")
        // SIGUSR1 pauses every pool, SIGUSR2 resumes: SHOW DATABASES' `paused` column follows.
        func paused() async throws -> String? {
            let databases = try await Shell.run(
                "\(cluster.bin)/psql",
                ["-X", "-At", "host=127.0.0.1 port=\(port) dbname=pgbouncer user=\(TestCluster.scramUser)",
                 "-c", "SHOW DATABASES"],
                environment: ["PGPASSWORD": TestCluster.scramPassword])
            return databases.stdout.split(separator: "\n").first { $0.hasPrefix("\(TestCluster.database)|") }
                .map { String($0.split(separator: "|", omittingEmptySubsequences: false)[11]) }
        }
        kill(process.processIdentifier, SIGUSR1)
        try await eventually("SIGUSR1 pauses") { try await paused() == "1" }
        kill(process.processIdentifier, SIGUSR2)
        try await eventually("SIGUSR2 resumes") { try await paused() == "0" }

        // SHUTDOWN from the console stops the process, which exits 0.
        let stop = try await Shell.run(
            "\(cluster.bin)/psql",
            ["-X", "-At", "host=127.0.0.1 port=\(port) dbname=pgbouncer user=\(TestCluster.scramUser)", "-c", "SHUTDOWN"],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
        _ = stop
        try await eventually("spillway exits after SHUTDOWN") { !process.isRunning }
        #expect(process.terminationStatus == 0)
        withExtendedLifetime(spillway) {}  // its deinit stops the process and removes the folder
    }
}

/// A `spillway` process started from the built binary in a temp folder: the test database, the SCRAM role
/// in userlist.txt, `extra` lines in `[pgbouncer]`, stderr kept in `log`.
final class RunningBinary {
    let directory: String
    let port: Int
    let launcher: SpillwayProcess
    var process: Process { launcher.process }
    /// The configuration file's text as written at start.
    let ini: String
    var iniPath: String { "\(directory)/spillway.ini" }
    var logPath: String { "\(directory)/stderr.log" }

    /// `asRoot`: start it as root itself (with `user` among `extra` it then switches user); otherwise it runs
    /// as the unprivileged test user.
    init(extra: [String] = [], asRoot: Bool = false) async throws {
        let cluster = try TestCluster.info()
        directory = try makeTemporaryDirectory()
        let secret = try await TestCluster.storedSecret(TestCluster.scramUser)
        try "\"\(TestCluster.scramUser)\" \"\(secret)\"\n".write(
            toFile: "\(directory)/userlist.txt", atomically: true, encoding: .utf8)
        port = Int.random(in: 20_000..<30_000)
        ini = ([
            "[databases]",
            "\(TestCluster.database) = host=127.0.0.1 port=\(cluster.port)",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            "listen_port = \(port)",
            "unix_socket_dir = \(directory)",
            "auth_type = scram-sha-256",
            "auth_file = \(directory)/userlist.txt",
        ] + extra).joined(separator: "\n")
        let iniPath = "\(directory)/spillway.ini"
        let logPath = "\(directory)/stderr.log"
        try ini.write(toFile: iniPath, atomically: true, encoding: .utf8)
        try SpillwayProcess.handOver(directory)
        launcher = try SpillwayProcess(ini: iniPath, stderrPath: logPath, asRoot: asRoot)
        let socket = "\(directory)/.s.PGSQL.\(port)"
        let launcher = launcher
        try await eventually("spillway listens on \(port)") {
            guard launcher.isRunning else {
                throw HarnessError("spillway exited: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
            }
            return FileManager.default.fileExists(atPath: socket)
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// psql as the SCRAM role against `database` through this Spillway.
    func psql(_ command: String, database: String = TestCluster.database) async throws -> Shell.Result {
        try await Shell.run(
            "\(try TestCluster.info().bin)/psql",
            ["-X", "-At", "host=127.0.0.1 port=\(port) dbname=\(database) user=\(TestCluster.scramUser)", "-c", command],
            environment: ["PGPASSWORD": TestCluster.scramPassword])
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// A PostgresNIO connection through this Spillway over TCP.
    func connect() async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: "127.0.0.1", port: port, username: TestCluster.scramUser, password: TestCluster.scramPassword,
            database: TestCluster.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        return try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: Int.random(in: 1...1000),
            logger: Logger(label: "t"))
    }
}
