import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import SpillwayCore
import SpillwayServer
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The throwaway PostgreSQL cluster `scripts/test` starts for the whole run.
enum TestCluster {
    struct Info: Sendable {
        var port: Int
        var socketDir: String
        var bin: String
    }

    /// Reads the cluster `scripts/test` exported; fails the test with instructions when run without it.
    static func info() throws -> Info {
        let env = ProcessInfo.processInfo.environment
        guard let portText = env["SPILLWAY_TEST_PGPORT"], let port = Int(portText),
              let socketDir = env["SPILLWAY_TEST_PGHOST"]
        else {
            throw HarnessError("integration tests need the PostgreSQL cluster that scripts/test starts: run scripts/test")
        }
        return Info(port: port, socketDir: socketDir, bin: env["SPILLWAY_TEST_PGBIN"] ?? "/usr/lib/postgresql/15/bin")
    }

    static let database = "spillway_test"
    static let scramUser = "spillway_scram"
    static let scramPassword = "scram_pass"
    static let md5User = "spillway_md5"
    static let md5Password = "md5_pass"

    /// Runs SQL as the superuser over the cluster's socket, returning unaligned output rows.
    static func superuser(_ sql: String, database: String = TestCluster.database) async throws -> [String] {
        let info = try info()
        let result = try await Shell.run(
            "\(info.bin)/psql",
            ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", info.socketDir, "-p", "\(info.port)", "-U", "postgres",
             "-d", database, "-c", sql])
        guard result.status == 0 else { throw HarnessError("superuser query failed: \(sql)\n\(result.stderr)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// The role's stored secret as PostgreSQL keeps it (for auth_file).
    static func storedSecret(_ role: String) async throws -> String {
        let rows = try await superuser("select rolpassword from pg_authid where rolname = '\(role)'")
        guard let secret = rows.first, !secret.isEmpty else { throw HarnessError("no stored password for \(role)") }
        return secret
    }

    /// Backends of `user` on the test database right now, Spillway's and anyone else's.
    static func backendCount(user: String) async throws -> Int {
        let rows = try await superuser(
            "select count(*) from pg_stat_activity where usename = '\(user)' and datname = '\(database)'")
        return Int(rows.first ?? "") ?? -1
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to completion and captures its output.
enum Shell {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        var updates: [Environment.Key: String?] = [:]
        for (key, value) in environment { updates[Environment.Key(stringLiteral: key)] = value }
        let executable: Executable = path.contains("/") ? .path(FilePath(path)) : .name(path)
        let result = try await Subprocess.run(
            executable, arguments: Arguments(arguments), environment: .inherit.updating(updates),
            output: .string(limit: 64 << 20), error: .string(limit: 4 << 20))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = Int32(code)
        case .signaled(let code): status = -Int32(code)
        }
        return Result(status: status, stdout: result.standardOutput, stderr: result.standardError)
    }
}

/// One Spillway for one test: the real `spillway` binary, started as an unprivileged OS user (see
/// `SpillwayProcess`) on a free port, with its own INI, auth_file, log file and Unix socket folder.
final class SpillwayUnderTest: Sendable {
    let process: SpillwayProcess
    let directory: String
    let logs: SpillwayLog
    let port: Int
    /// Port of /metrics, when metrics_listen_addr is set.
    let metricsPort: Int?

    var socketDir: String { directory }

    /// `settings`: lines for `[pgbouncer]`; `databases`: lines for `[databases]` (default: the test database);
    /// `users`: lines for `[users]`; `authFile`: lines of userlist.txt (default: the SCRAM role's real secret).
    static func start(
        settings: [String] = [], databases: [String]? = nil, users: [String] = [], authFile: [String]? = nil,
        applications: [String] = []
    ) async throws -> SpillwayUnderTest {
        let cluster = try TestCluster.info()
        let directory = try makeTemporaryDirectory()
        let userlist: [String]
        if let authFile {
            userlist = authFile
        } else {
            userlist = ["\"\(TestCluster.scramUser)\" \"\(try await TestCluster.storedSecret(TestCluster.scramUser))\""]
        }
        try (userlist.joined(separator: "\n") + "\n").write(
            toFile: "\(directory)/userlist.txt", atomically: true, encoding: .utf8)
        let databaseLines = databases ?? [
            "\(TestCluster.database) = host=127.0.0.1 port=\(cluster.port) dbname=\(TestCluster.database)"
        ]
        let text = """
            [databases]
            \(databaseLines.joined(separator: "\n"))

            [users]
            \(users.joined(separator: "\n"))

            [applications]
            \(applications.joined(separator: "\n"))

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = 0
            unix_socket_dir = \(directory)
            auth_type = scram-sha-256
            auth_file = \(directory)/userlist.txt
            pool_mode = transaction
            default_pool_size = 10
            max_client_conn = 1000
            threads = 2
            verbose = 1
            logfile = \(directory)/spillway.log
            \(settings.joined(separator: "\n"))
            """
        try text.write(toFile: "\(directory)/spillway.ini", atomically: true, encoding: .utf8)
        try SpillwayProcess.handOver(directory)
        let process = try SpillwayProcess(ini: "\(directory)/spillway.ini", stderrPath: "\(directory)/stderr.log")
        let logs = SpillwayLog(path: "\(directory)/spillway.log")
        let wantsMetrics = settings.contains { $0.hasPrefix("metrics_listen_addr") && !$0.hasSuffix("=") }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let port = logs.port(), !wantsMetrics || logs.port(metrics: true) != nil {
                return SpillwayUnderTest(
                    process: process, directory: directory, logs: logs, port: port, metricsPort: logs.port(metrics: true))
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        await process.stop()
        throw HarnessError("spillway did not start listening:\n\(process.stderr)\n\(logs.text)")
    }

    private init(process: SpillwayProcess, directory: String, logs: SpillwayLog, port: Int, metricsPort: Int?) {
        self.process = process
        self.directory = directory
        self.logs = logs
        self.port = port
        self.metricsPort = metricsPort
    }

    func stop() async {
        await process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Servers of the test database's pool as SHOW POOLS counts them (needs the SCRAM role in admin_users or
    /// stats_users): all open, those lent out, and clients waiting.
    func poolCounts(user: String = TestCluster.scramUser) async throws -> (servers: Int, active: Int, waiting: Int)? {
        let result = try await psql(["SHOW POOLS"], database: "pgbouncer")
        guard result.status == 0 else { throw HarnessError("SHOW POOLS failed: \(result.stderr)") }
        for line in result.stdout.split(separator: "\n") {
            let names = line.split(separator: "|", omittingEmptySubsequences: false)
            let fields = names.map { Int($0) ?? 0 }
            guard names.count > 12, names[0] == TestCluster.database, names[1] == user else { continue }
            // sv_active, sv_active_cancel, sv_being_canceled, sv_idle, sv_used, sv_tested, sv_login
            return (servers: fields[6...12].reduce(0, +), active: fields[6], waiting: fields[3])
        }
        return nil
    }

    /// A PostgresNIO connection through Spillway.
    func connect(
        user: String = TestCluster.scramUser, password: String = TestCluster.scramPassword,
        database: String = TestCluster.database, unixSocket: Bool = false
    ) async throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        if unixSocket {
            configuration = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: user, password: password,
                                  database: database)
        } else {
            configuration = .init(host: "127.0.0.1", port: port, username: user, password: password,
                                  database: database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(30)
        return try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
            id: Int.random(in: 0..<1_000_000), logger: Logger(label: "test-client"))
    }

    /// psql through Spillway: -X -At, ON_ERROR_STOP, verbose errors (SQLSTATE shown).
    func psql(
        _ commands: [String], user: String = TestCluster.scramUser, password: String = TestCluster.scramPassword,
        database: String = TestCluster.database, unixSocket: Bool = false, extraArguments: [String] = []
    ) async throws -> Shell.Result {
        let cluster = try TestCluster.info()
        let host = unixSocket ? directory : "127.0.0.1"
        var arguments = ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
                         "host=\(host) port=\(port) dbname=\(database) user=\(user)"]
        for command in commands { arguments += ["-c", command] }
        return try await Shell.run("\(cluster.bin)/psql", extraArguments + arguments, environment: ["PGPASSWORD": password])
    }
}

func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/spillway-it.XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
    let path = String(cString: result)
    chmod(path, 0o755)
    return path
}

/// The SQLSTATE of a PostgresNIO error, if the server (Spillway) sent one.
func sqlState(of error: any Error) -> String? {
    (error as? PSQLError)?.serverInfo?[.sqlState]
}

/// Waits until `condition` holds, polling, or fails after `timeout`.
func eventually(
    timeout: Duration = .seconds(10), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw HarnessError("timed out waiting for: \(what)")
}

/// Connects to 127.0.0.1:port over a plain blocking socket, sends `bytes` (possibly none), and returns what
/// arrives until the peer closes (or 10 s pass without a byte). For protocols no client library speaks here:
/// raw HTTP, a client that never logs in.
func loopbackExchange(port: Int, send bytes: [UInt8]) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw HarnessError("connect to 127.0.0.1:\(port) failed") }
    if !bytes.isEmpty, send(fd, bytes, bytes.count, 0) != bytes.count { throw HarnessError("send failed") }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = recv(fd, &chunk, chunk.count, 0)
        if count <= 0 { break }
        received.append(contentsOf: chunk[0..<count])
    }
    return received
}
