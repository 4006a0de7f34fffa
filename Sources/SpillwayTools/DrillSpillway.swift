import Foundation

/// Spillway for one run through it: the `spillway` executable started as `spillway run` with its defaults except
/// what it needs to connect, and `pool_mode = transaction` (the leak guard is built for it). It never serves as
/// root: started by root, it gets `user = postgres` (the cluster's owner, as Debian runs PgBouncer) and drops
/// to it after binding. Its log goes to a file, never the terminal.
final class DrillSpillway: Sendable {
    /// The name clients use for the drill's database through Spillway.
    static let databaseName = "drill"
    /// The one setting changed from Spillway's defaults, as printed in the report.
    static let nonDefaultSetting = "pool_mode = transaction"

    /// The TCP port it listens on.
    let port: Int
    /// The folder with the INI file and the log.
    let directory: String
    /// Where Spillway's log lines go.
    let log: LogPath
    private let process: Process

    /// The log file's path (Spillway itself writes it: `logfile`).
    struct LogPath: Sendable {
        var path: String
    }

    private init(port: Int, directory: String, process: Process) {
        self.port = port
        self.directory = directory
        self.log = LogPath(path: "\(directory)/spillway.log")
        self.process = process
    }

    /// The INI text: one database, loopback on a free port, no Unix socket, md5 with a plain-text auth_file,
    /// drill_oncall in admin_users, pool_mode = transaction, the log in `directory`, and `user` when started
    /// by root; everything else at Spillway's defaults.
    static func configurationText(
        target: WireClient.Configuration, authFile: String, logFile: String = "", user: String? = nil
    ) -> String {
        """
        [databases]
        \(databaseName) = host=\(target.host) port=\(target.port) dbname=\(target.database)

        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = 0
        unix_socket_dir =
        auth_type = md5
        auth_file = \(authFile)
        admin_users = \(DrillDatabase.oncallUser)
        logfile = \(logFile)
        \(user.map { "user = \($0)" } ?? "")
        ; the only setting changed from Spillway's defaults: the leak guard works in transaction mode
        \(nonDefaultSetting)

        """
    }

    /// Writes the INI and auth_file into `directory`, starts `executable run`, and waits until it listens.
    static func start(database: DrillDatabase, directory: String, executable: String) async throws -> DrillSpillway {
        let process = try launch(database: database, directory: directory, executable: executable)
        let logPath = "\(directory)/spillway.log"
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, process.isRunning {
            if let port = listeningPort(logPath) {
                return DrillSpillway(port: port, directory: directory, process: process)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { process.terminate() }
        let said = (try? String(contentsOfFile: "\(directory)/stderr.log", encoding: .utf8)) ?? ""
        throw SetupError("Spillway did not start: \(said.suffix(2000))")
    }

    /// The OS user Spillway is told to become: the cluster's owner when this process is root.
    private static func serviceUser(_ owner: ClusterOwner) -> String? {
        switch owner {
        case .currentUser: nil
        case .osUser(let name, _, _, _): name
        }
    }

    /// Writes the files, hands them to the service user, and starts the process.
    private static func launch(database: DrillDatabase, directory: String, executable: String) throws -> Process {
        let authFile = "\(directory)/userlist.txt"
        let userlist = """
            "\(DrillDatabase.appUser)" "\(database.appPassword)"
            "\(DrillDatabase.oncallUser)" "\(database.oncallPassword)"

            """
        let iniPath = "\(directory)/spillway.ini"
        let owner = try ClusterOwner.forThisProcess()
        let ini = configurationText(
            target: database.target, authFile: authFile, logFile: "\(directory)/spillway.log",
            user: serviceUser(owner))
        let files = FileManager.default
        let secret: [FileAttributeKey: Any] = [.posixPermissions: 0o600]
        guard files.createFile(atPath: authFile, contents: Data(userlist.utf8), attributes: secret),
            files.createFile(atPath: iniPath, contents: Data(ini.utf8))
        else {
            throw SetupError("cannot write Spillway's configuration into \(directory)")
        }
        // The service user reads its files and reopens its log on reload.
        try owner.take(directory)
        try owner.take(authFile)
        try owner.take(iniPath)
        let output = "\(directory)/stderr.log"
        _ = files.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", iniPath]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle(forWritingAtPath: output)
        do {
            try process.run()
        } catch {
            throw SetupError("cannot run \(executable): \(error)")
        }
        return process
    }

    /// The port of the first `listening addr=127.0.0.1:PORT` line of the log.
    static func listeningPort(_ path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.contains(": listening addr=") {
            guard let range = line.range(of: "addr=") else { continue }
            let address = line[range.upperBound...].prefix { !$0.isWhitespace }
            if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
                return port
            }
        }
        return nil
    }

    /// How the job and the API log in through Spillway.
    func appConfiguration(_ database: DrillDatabase, applicationName: String?) -> WireClient.Configuration {
        var configuration = database.appConfiguration(applicationName: applicationName)
        configuration.host = "127.0.0.1"
        configuration.port = port
        configuration.database = Self.databaseName
        return configuration
    }

    /// How the on-call engineer logs in to Spillway's admin console.
    func consoleConfiguration(_ database: DrillDatabase) -> WireClient.Configuration {
        var configuration = database.oncallConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = port
        configuration.database = "pgbouncer"
        return configuration
    }

    /// Asks the admin console `SHOW LEAKS`: the leaks it reports, or the error it answers with.
    func showLeaks(_ database: DrillDatabase) async -> LeakReport {
        let console: WireClient
        do {
            console = try await WireClient.connect(consoleConfiguration(database))
        } catch {
            return .failed("\(error)")
        }
        let report: LeakReport
        do {
            report = LeakReport(try await console.query("SHOW LEAKS", timeout: .seconds(10)))
        } catch {
            report = .failed("\(error)")
        }
        await console.close()
        return report
    }

    /// Stops Spillway at once (SIGQUIT closes every client and server) and removes the auth_file (it holds
    /// passwords); the log stays.
    func stop() async {
        if process.isRunning { kill(process.processIdentifier, SIGQUIT) }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: "\(directory)/userlist.txt")
    }
}
