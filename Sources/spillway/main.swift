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
        // SIGHUP: reload the configuration; a bad file is logged and the running one stays.
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { spillway.reload() }
        hangup.resume()
        defer { hangup.cancel() }
        // SIGUSR1 / SIGUSR2: pause / resume every pool, as PgBouncer does.
        signal(SIGUSR1, SIG_IGN)
        signal(SIGUSR2, SIG_IGN)
        let pauseSource = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        pauseSource.setEventHandler { spillway.pause() }
        pauseSource.resume()
        let resumeSource = DispatchSource.makeSignalSource(signal: SIGUSR2, queue: .global())
        resumeSource.setEventHandler { spillway.resume() }
        resumeSource.resume()
        defer {
            pauseSource.cancel()
            resumeSource.cancel()
        }

        // SIGTERM: drain for up to shutdown_timeout; SIGINT: drain as long as servers are in use (PgBouncer's
        // safe shutdown); SIGQUIT, or a second signal: close at once.
        let signals = SignalStream([SIGTERM, SIGINT, SIGQUIT])
        let first: Int32 = await withTaskGroup(of: Int32.self) { group in
            group.addTask { await signals.next() }
            group.addTask {
                // SHUTDOWN from the admin console stops Spillway from inside.
                while !spillway.hasStopped, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
                return 0
            }
            let first = await group.next() ?? 0
            group.cancelAll()
            return first
        }
        if first == 0 || first == -1 {
            logger.info("stopped from the admin console")
            return
        }
        guard first != SIGQUIT else {
            logger.info("shutting down now", metadata: ["signal": "SIGQUIT"])
            await spillway.shutdown()
            return
        }
        let timeout: Duration? = first == SIGTERM ? .seconds(config.settings.shutdownTimeout) : nil
        logger.info("shutting down", metadata: ["signal": "\(first == SIGTERM ? "SIGTERM" : "SIGINT")"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await spillway.drain(timeout: timeout) }
            group.addTask {
                let second = await signals.next()
                guard second != -1, !Task.isCancelled else { return }  // the drain finished first
                logger.info("second signal: closing at once")
                await spillway.shutdown()
            }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Delivers the given signals, in order, as they arrive.
final class SignalStream: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private var iterator: AsyncStream<Int32>.Iterator
    private var sources: [DispatchSourceSignal] = []

    init(_ signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        self.iterator = stream.makeAsyncIterator()
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// The next signal; suspends until one arrives (-1 if the stream ended).
    func next() async -> Int32 {
        await iterator.next() ?? -1
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
