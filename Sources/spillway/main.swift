import ArgumentParser
import Foundation
import Logging
import SpillwayCore
import SpillwayServer

/// `spillway CONFIG` or `spillway run CONFIG`: the pooler in the foreground.
@main
struct SpillwayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spillway",
        abstract: "A PostgreSQL connection pooler that keeps the database up when applications misbehave.",
        subcommands: [Run.self],
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
        do {
            config = try Config.load(path: self.config)
        } catch {
            FileHandle.standardError.write(Data("spillway: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let level: Logger.Level = switch max(verbose, config.settings.verbose) {
        case 0: .info
        case 1: .debug
        default: .trace
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "spillway")
        raiseOpenFileLimit(logger: logger, clients: config.settings.maxClientConn)
        for warning in config.warnings {
            logger.warning("\(warning.description)")
        }
        let spillway: Spillway
        do {
            spillway = try await Spillway.start(config: config, logger: logger)
        } catch {
            logger.critical("could not start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        await waitForTerminationSignal()
        logger.info("shutting down")
        await spillway.shutdown()
    }
}

/// Suspends until SIGTERM or SIGINT arrives.
func waitForTerminationSignal() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let once = SignalOnce(continuation)
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { once.fire() }
            source.resume()
            SignalOnce.sources.append(source)
        }
    }
}

/// Resumes a continuation at most once, from whichever signal comes first.
final class SignalOnce: @unchecked Sendable {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func fire() {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume()
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
