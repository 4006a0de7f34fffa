import Foundation
import Logging
import SpillwayCore
import SpillwayServer

/// Spillway started in-process for one run through it, with its defaults except what it needs to connect, and
/// `pool_mode = transaction` (the leak guard is built for it). Its log goes to a file, never the terminal.
final class DrillSpillway: Sendable {
    /// The name clients use for the drill's database through Spillway.
    static let databaseName = "drill"
    /// The one setting changed from Spillway's defaults, as printed in the report.
    static let nonDefaultSetting = "pool_mode = transaction"

    let spillway: Spillway
    /// The folder with the INI file and the log.
    let directory: String
    /// Where Spillway's log lines go.
    let log: LogFile

    private init(spillway: Spillway, directory: String, log: LogFile) {
        self.spillway = spillway
        self.directory = directory
        self.log = log
    }

    /// The INI text: one database, loopback on a free port, no Unix socket, md5 with a plain-text auth_file,
    /// drill_oncall in admin_users, pool_mode = transaction; everything else at Spillway's defaults.
    static func configurationText(target: WireClient.Configuration, authFile: String) -> String {
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
        ; the only setting changed from Spillway's defaults: the leak guard works in transaction mode
        \(nonDefaultSetting)

        """
    }

    /// Writes the INI and auth_file into `directory` and starts Spillway.
    static func start(database: DrillDatabase, directory: String) async throws -> DrillSpillway {
        let authFile = "\(directory)/userlist.txt"
        let userlist = """
            "\(DrillDatabase.appUser)" "\(database.appPassword)"
            "\(DrillDatabase.oncallUser)" "\(database.oncallPassword)"

            """
        let iniPath = "\(directory)/spillway.ini"
        let ini = configurationText(target: database.target, authFile: authFile)
        let log = try LogFile(path: "\(directory)/spillway.log")
        do {
            let files = FileManager.default
            let secret: [FileAttributeKey: Any] = [.posixPermissions: 0o600]
            guard files.createFile(atPath: authFile, contents: Data(userlist.utf8), attributes: secret),
                files.createFile(atPath: iniPath, contents: Data(ini.utf8))
            else {
                throw SetupError("cannot write Spillway's configuration into \(directory)")
            }
            let config = try Config.load(path: iniPath)
            var logger = Logger(label: "spillway") { label in
                JSONLogHandler(label: label, sink: { log.write($0) })
            }
            logger.logLevel = .info
            let spillway = try await Spillway.start(config: config, logger: logger)
            return DrillSpillway(spillway: spillway, directory: directory, log: log)
        } catch let error as SetupError {
            log.close()
            throw error
        } catch {
            log.close()
            throw SetupError("Spillway did not start: \(error)")
        }
    }

    /// How the job and the API log in through Spillway.
    func appConfiguration(_ database: DrillDatabase, applicationName: String?) -> WireClient.Configuration {
        var configuration = database.appConfiguration(applicationName: applicationName)
        configuration.host = "127.0.0.1"
        configuration.port = spillway.port
        configuration.database = Self.databaseName
        return configuration
    }

    /// How the on-call engineer logs in to Spillway's admin console.
    func consoleConfiguration(_ database: DrillDatabase) -> WireClient.Configuration {
        var configuration = database.oncallConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = spillway.port
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

    /// Stops Spillway, closes its log and removes the auth_file (it holds passwords); the log stays.
    func stop() async {
        await spillway.shutdown()
        log.close()
        try? FileManager.default.removeItem(atPath: "\(directory)/userlist.txt")
    }
}
