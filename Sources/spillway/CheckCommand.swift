import ArgumentParser
import Foundation
import SpillwayCore
import SpillwayTools

/// `spillway check CONFIG`: validates the file, asks every configured PostgreSQL host for its connection budget
/// and prints what the worst case would leave. Exit 0 safe, 1 unsafe or not verifiable, 2 configuration error.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a configuration against the connection budget of every PostgreSQL it points at.",
        discussion: """
            Validates the file, logs in once to each server named in [databases] and prints a table: \
            max_connections, reserved slots, other client backends, Spillway's budget and worst case, and the \
            headroom left. Lists the safety bounds the file turns off (warnings only). Exits 0 when every host \
            has headroom, 1 when a worst case exceeds a server's budget or a host cannot be checked, 2 when the \
            configuration or auth_file is invalid. Logs in with --user/--password, else the database's user= and \
            password=, else PGUSER with the auth_file password (plain text only) or PGPASSWORD.
            """)

    @Argument(help: "Path to the configuration file (pgbouncer.ini format).")
    var config: String

    @Option(help: "Spillway processes sharing each server (overrides `instances` in the file).")
    var instances: Int?

    @Option(help: "Log in to every server as this role.")
    var user: String?

    @Option(help: "Password for --user (or for the role the check logs in as).")
    var password: String?

    func validate() throws {
        if let instances, instances < 1 {
            throw ValidationError("--instances must be at least 1")
        }
    }

    func run() async throws {
        let config: Config
        do {
            config = try Config.load(path: self.config)
        } catch {
            Self.printError("spillway check: \(error)")
            throw ExitCode(2)
        }
        for warning in config.warnings {
            Self.printError("spillway check: warning: \(warning)")
        }
        var options = CheckOptions()
        options.instances = instances
        options.user = user
        options.password = password
        options.environment = ProcessInfo.processInfo.environment
        options.systemUser = ProcessInfo.processInfo.userName
        if config.settings.serverConnectTimeout > 0 {
            options.connectTimeout = .milliseconds(Int64(config.settings.serverConnectTimeout * 1000))
        }
        let report: CheckReport
        do {
            report = try await Check(config: config, options: options).run()
        } catch {
            Self.printError("spillway check: \(error)")
            throw ExitCode(2)
        }
        print(report.text, terminator: "")
        if report.exitCode != 0 {
            throw ExitCode(report.exitCode)
        }
    }

    /// One line on stderr.
    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
