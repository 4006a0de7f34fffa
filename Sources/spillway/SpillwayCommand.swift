import ArgumentParser
import Foundation
import Logging
import UnixSignals
import ServiceLifecycle
import SpillwayCore
import SpillwayServer

/// `spillway CONFIG` or `spillway run CONFIG`: the pooler in the foreground.

struct SpillwayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spillway",
        abstract: "A PostgreSQL connection pooler that keeps the database up when applications misbehave.",
        subcommands: [Run.self, CheckCommand.self, DrillCommand.self],
        defaultSubcommand: Run.self
    )
}

/// Starts the pooler with a pgbouncer-style INI file.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the pooler in the foreground with a pgbouncer.ini-style configuration file.")

    @Argument(help: "Path to the configuration file (pgbouncer.ini format).")
    var config: String

    @Flag(name: .shortAndLong, help: "Log more (repeat for trace).")
    var verbose: Int

    func run() async throws {
        let config: Config
        let serviceUser: ServiceUser?
        do {
            config = try Config.load(path: self.config)
        } catch {
            FileHandle.standardError.write(Data("spillway: \(error)\n".utf8))
            throw ExitCode(2)
        }
        do {
            serviceUser = try ServiceUser.plan(configured: config.settings.user)
        } catch {
            FileHandle.standardError.write(Data("spillway: \(self.config): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let level: Logger.Level = switch max(verbose, config.settings.verbose) {
        case 0: .info
        case 1: .debug
        default: .trace
        }
        let output: LogOutput
        do {
            if let pidfile = config.settings.pidfile { try PidFile.check(pidfile) }
            output = try LogOutput(settings: config.settings)
        } catch {
            FileHandle.standardError.write(Data("spillway: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if let serviceUser { output.chown(uid: serviceUser.uid, gid: serviceUser.gid) }
        LoggingSystem.bootstrap { label in output.handler(label: label, level: level) }
        let logger = Logger(label: "spillway")
        raiseOpenFileLimit(logger: logger, clients: config.settings.maxClientConn)
        for warning in config.warnings {
            logger.warning("\(warning.description)")
        }
        let signals = await SignalService.trap()
        let spillway: any Pooler
        let pidFile: PidFile?
        do {
            spillway = try await DataPlane.launch(config: config, logger: logger, logOutput: output)
        } catch {
            logger.critical("could not start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        do {
            pidFile = try config.settings.pidfile.map { path in
                try PidFile.write(path, owner: serviceUser.map { ($0.uid, $0.gid) })
            }
            if let serviceUser {
                // The Unix socket was made by root: the service user must be able to remove it at exit.
                if let socket = spillway.unixSocketPath { _ = chown(socket, serviceUser.uid, gid_t.max) }
                try serviceUser.become()
                logger.info("switched to the service user after binding", metadata: [
                    "user": "\(serviceUser.name)", "uid": "\(serviceUser.uid)", "gid": "\(serviceUser.gid)",
                ])
            }
        } catch {
            logger.critical("could not start", metadata: ["error": "\(error)"])
            await spillway.shutdown()
            throw ExitCode(1)
        }
        defer { pidFile?.remove() }
        let stop = StopRequest()
        let group = GroupBox()
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [
                // Shut down in reverse order: the pooler drains first, while the signal service still listens
                // for a second SIGTERM or SIGINT.
                .init(service: SignalService(signals: signals, spillway: spillway, stop: stop, group: group, logger: logger)),
                .init(service: PoolerService(
                    spillway: spillway, stop: stop, shutdownTimeout: config.settings.shutdownTimeout, logger: logger),
                      successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            // SIGQUIT cancels the group: the pooler closes everything at once.
            cancellationSignals: [.sigquit],
            logger: logger))
        group.set(serviceGroup)
        try await serviceGroup.run()
    }
}

/// Every client and server is a file descriptor: raise the soft limit to the hard one, and warn when even that
/// cannot hold max_client_conn plus the servers.
func raiseOpenFileLimit(logger: Logger, clients: Int) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    if limit.rlim_cur < limit.rlim_max {
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    if Int(limit.rlim_cur) < clients + 100 {
        logger.warning("open file limit is below max_client_conn", metadata: [
            "limit": "\(limit.rlim_cur)", "max_client_conn": "\(clients)",
        ])
    }
}
