import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A PostgreSQL 15 cluster of its own for the drill: initdb in a new temporary folder, listening on 127.0.0.1
/// only, on a free port below the ephemeral range, md5 over TCP for everyone (the superuser `postgres` has a
/// random password). `stop()` shuts it down (fast) and removes the folder; always call it.
///
/// Running as root, the cluster belongs to the `postgres` OS user (initdb and postgres refuse root).
public final class ThrowawayCluster: Sendable {
    /// The address PostgreSQL listens on.
    public let host = "127.0.0.1"
    /// The TCP port PostgreSQL listens on.
    public let port: Int
    /// The temporary folder: data/, the server log, the Unix socket. Removed by `stop()`.
    public let directory: String
    /// The superuser role.
    public let superuser = "postgres"
    /// The superuser's password (random, for this cluster only).
    public let superuserPassword: String
    /// `max_connections` the server runs with (superuser_reserved_connections stays at its default, 3).
    public let maxConnections: Int

    private let bindir: String
    private let owner: ClusterOwner
    /// The running `postgres` (or `runuser` around it); nil once stopped.
    private let postmaster: NIOLockedValueBox<Process?>

    private init(
        port: Int, directory: String, superuserPassword: String, maxConnections: Int, bindir: String,
        owner: ClusterOwner, postmaster: Process
    ) {
        self.port = port
        self.directory = directory
        self.superuserPassword = superuserPassword
        self.maxConnections = maxConnections
        self.bindir = bindir
        self.owner = owner
        self.postmaster = NIOLockedValueBox(postmaster)
    }

    /// The server's log file.
    public var logPath: String { "\(directory)/postgresql.log" }

    /// How to log in as the superuser over TCP.
    public func superuserConfiguration(database: String = "postgres") -> WireClient.Configuration {
        WireClient.Configuration(
            host: host, port: port, user: superuser, password: superuserPassword, database: database,
            applicationName: "spillway-drill")
    }

    /// initdb, then start the server and wait until the superuser can log in. Cleans up after itself on failure.
    public static func start(
        maxConnections: Int = 85, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> ThrowawayCluster {
        let bindir = try findBindir()
        let owner = try ClusterOwner.forThisProcess()
        let directory = try makeDirectory()
        var spawned: ThrowawayCluster?
        do {
            try owner.take(directory)
            let password = RandomPassword.make()
            progress("initdb \(directory)/data")
            try await initdb(bindir: bindir, owner: owner, directory: directory, password: password)
            for attempt in 1...5 {
                guard let port = await LoopbackPort.pickFree() else {
                    throw SetupError("no free port found between 20000 and 32699 on 127.0.0.1")
                }
                progress("starting PostgreSQL on 127.0.0.1:\(port) (max_connections \(maxConnections))")
                let process = try ClusterProcess.spawn(
                    serverArguments(bindir: bindir, directory: directory, port: port, maxConnections: maxConnections),
                    as: owner, log: "\(directory)/postgresql.log")
                let cluster = ThrowawayCluster(
                    port: port, directory: directory, superuserPassword: password, maxConnections: maxConnections,
                    bindir: bindir, owner: owner, postmaster: process)
                spawned = cluster
                if try await cluster.waitUntilReady(process: process) {
                    return cluster
                }
                // Lost a race for the port with another process? Try another one.
                let log = TextFile.lastLines(of: "\(directory)/postgresql.log", count: 20)
                guard attempt < 5, log.contains("could not bind") || log.contains("Address already in use") else {
                    throw SetupError("PostgreSQL did not start; the end of its log:\n\(log)")
                }
            }
            throw SetupError("PostgreSQL did not start: every port tried was taken")
        } catch {
            await spawned?.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Stops the server (fast shutdown) and removes the folder, off the caller's thread. Idempotent.
    public func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.stopNow()
                continuation.resume()
            }
        }
    }

    /// Stops the server (fast shutdown) and removes the folder, blocking: for a signal handler. Idempotent.
    public func stopNow() {
        guard
            let process = postmaster.withLockedValue({ process in
                defer { process = nil }
                return process
            })
        else { return }
        let data = "\(directory)/data"
        let log = "\(directory)/pg_ctl.log"
        if process.isRunning {
            let fast = ClusterProcess.runBlocking(
                ["\(bindir)/pg_ctl", "stop", "-m", "fast", "-t", "30", "-D", data], as: owner, log: log)
            if fast != 0 && process.isRunning {
                _ = ClusterProcess.runBlocking(
                    ["\(bindir)/pg_ctl", "stop", "-m", "immediate", "-t", "30", "-D", data], as: owner, log: log)
            }
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline {
                usleep(50_000)
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Polls a superuser login until it works (true), the server exits (false) or 60 seconds pass (throws).
    private func waitUntilReady(process: Process) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        var configuration = superuserConfiguration()
        configuration.connectTimeout = .seconds(2)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                postmaster.withLockedValue { $0 = nil }
                return false
            }
            if let client = try? await WireClient.connect(configuration) {
                await client.close()
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SetupError("PostgreSQL started but accepted no login within 60 s (log: \(logPath))")
    }

    /// The folder with initdb, pg_ctl and postgres: `pg_config --bindir`, else Debian's PostgreSQL 15 folder.
    private static func findBindir() throws -> String {
        let fallback = "/usr/lib/postgresql/15/bin"
        var candidates: [String] = []
        if let fromPgConfig = pgConfigBindir() {
            candidates.append(fromPgConfig)
        }
        candidates.append(fallback)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: "\(candidate)/initdb") {
            return candidate
        }
        throw SetupError(
            "PostgreSQL is not installed (no initdb in \(candidates.joined(separator: " or "))); "
                + "install it (apt-get install postgresql) or point the drill at a server with --dsn")
    }

    /// What `pg_config --bindir` prints, if pg_config is on PATH.
    private static func pgConfigBindir() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard
            let pgConfig = path.split(separator: ":").map({ "\($0)/pg_config" })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pgConfig)
        process.arguments = ["--bindir"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// A new folder under /tmp, readable by everyone (the socket lives there; data/ itself stays 0700).
    private static func makeDirectory() throws -> String {
        var template = Array("/tmp/spillway-drill-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SetupError("cannot create a temporary folder under /tmp: \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: made)
        chmod(directory, 0o755)
        return directory
    }

    /// initdb with md5 for TCP, trust on the socket, and the superuser password from a file that is removed after.
    private static func initdb(bindir: String, owner: ClusterOwner, directory: String, password: String) async throws {
        let passwordFile = "\(directory)/superuser-password"
        guard
            FileManager.default.createFile(
                atPath: passwordFile, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw SetupError("cannot write \(passwordFile)")
        }
        try owner.take(passwordFile)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        let log = "\(directory)/initdb.log"
        let status = try await ClusterProcess.run(
            [
                "\(bindir)/initdb", "-D", "\(directory)/data", "-U", "postgres", "-E", "UTF8", "--locale=C",
                "--auth-local=trust", "--auth-host=md5", "--pwfile=\(passwordFile)", "--no-instructions", "--nosync",
            ], as: owner, log: log)
        guard status == 0 else {
            throw SetupError("initdb failed (status \(status)):\n\(TextFile.lastLines(of: log, count: 20))")
        }
    }

    /// `postgres` in the foreground with the drill's settings on the command line.
    private static func serverArguments(bindir: String, directory: String, port: Int, maxConnections: Int) -> [String] {
        let settings = [
            "listen_addresses=127.0.0.1",
            "port=\(port)",
            "unix_socket_directories=\(directory)",
            "max_connections=\(maxConnections)",
            // A throwaway cluster needs no durability.
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
        ]
        return ["\(bindir)/postgres", "-D", "\(directory)/data"] + settings.flatMap { ["-c", $0] }
    }

}
