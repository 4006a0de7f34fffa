import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import SpillwayServer
import UnixSignals

/// How the first stop signal asked Spillway to stop.
final class StopRequest: Sendable {
    enum Kind: Sendable {
        /// SIGTERM: transactions may finish for up to shutdown_timeout.
        case drainWithTimeout
        /// SIGINT (PgBouncer's safe shutdown): wait as long as servers are in use.
        case drainWithoutLimit
    }

    private let kind = NIOLockedValueBox<Kind?>(nil)

    /// Records the first request; false if one was already made (this is a second signal).
    func request(_ requested: Kind) -> Bool {
        kind.withLockedValue { kind in
            guard kind == nil else { return false }
            kind = requested
            return true
        }
    }

    var requested: Kind? { kind.withLockedValue { $0 } }
}

/// The service group, known to the signal service once it exists.
final class GroupBox: Sendable {
    private let box = NIOLockedValueBox<ServiceGroup?>(nil)
    func set(_ group: ServiceGroup) { box.withLockedValue { $0 = group } }
    var group: ServiceGroup? { box.withLockedValue { $0 } }
}

/// The pooler as a service: runs until Spillway stops; a graceful shutdown drains it (SIGTERM with
/// shutdown_timeout, SIGINT without limit), cancellation (SIGQUIT) closes everything at once, and a console
/// SHUTDOWN ends it from inside, which ends the group.
struct PoolerService: Service {
    let spillway: any Pooler
    let stop: StopRequest
    let shutdownTimeout: Double
    let logger: Logger

    func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await spillway.waitUntilStopped()
            } onGracefulShutdown: {
                let timeout: Duration? = switch stop.requested {
                case .drainWithoutLimit: nil
                case .drainWithTimeout, nil: .milliseconds(Int64(shutdownTimeout * 1000))
                }
                logger.info("shutting down", metadata: [
                    "wait": "\(timeout.map { "up to \($0.components.seconds) s" } ?? "until servers are free")",
                ])
                Task { await spillway.drain(timeout: timeout) }
            }
        } onCancel: {
            logger.info("shutting down now")
            Task { await spillway.shutdown() }
        }
        if spillway.hasStopped { logger.info("stopped from the admin console") }
    }
}

/// Signals besides SIGQUIT: SIGHUP reloads, SIGUSR1/SIGUSR2 pause/resume, the first SIGTERM or SIGINT starts
/// the group's graceful shutdown, and a second one closes everything at once.
/// Trap them with `SignalService.trap()` before Spillway starts listening.
struct SignalService: Service {
    /// Trapped before the listeners open, so that no signal finds its default action (exit) meanwhile.
    let signals: UnixSignalsSequence
    let spillway: any Pooler
    let stop: StopRequest
    let group: GroupBox
    let logger: Logger

    static func trap() async -> UnixSignalsSequence {
        await UnixSignalsSequence(trapping: .sighup, .sigusr1, .sigusr2, .sigterm, .sigint)
    }

    func run() async throws {
        for await signal in signals.cancelOnGracefulShutdown() {
            switch signal {
            case .sighup:
                logger.info("SIGHUP: reloading the configuration")
                spillway.reload()
            case .sigusr1:
                logger.info("SIGUSR1: pausing every pool")
                spillway.pause()
            case .sigusr2:
                logger.info("SIGUSR2: resuming every pool")
                spillway.resume()
            case .sigterm, .sigint:
                let kind: StopRequest.Kind = signal == .sigterm ? .drainWithTimeout : .drainWithoutLimit
                if stop.request(kind) {
                    logger.info("stop requested", metadata: ["signal": "\(signal)"])
                    await group.group?.triggerGracefulShutdown()
                } else {
                    logger.info("second signal: closing at once", metadata: ["signal": "\(signal)"])
                    await spillway.shutdown()
                }
            default:
                break
            }
        }
    }
}
