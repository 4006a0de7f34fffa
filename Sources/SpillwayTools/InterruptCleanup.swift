import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C (SIGINT) or SIGTERM during the drill: run the registered cleanups once (stop the throwaway cluster,
/// remove temporary folders), then exit with 128 + the signal number. The cleanups run on a dispatch queue, not in
/// the signal handler, so they may block.
///
/// `@unchecked Sendable`: `sources` is set once in `init` and only kept alive afterwards (dispatch sources are
/// thread-safe); the cleanups live behind a lock.
public final class InterruptCleanup: @unchecked Sendable {
    private let cleanups = NIOLockedValueBox<[@Sendable () -> Void]>([])
    private let sources: [any DispatchSourceSignal]

    /// Traps SIGINT and SIGTERM for the life of this object's process.
    public init() {
        let cleanups = self.cleanups
        var made: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)  // the source sees it; the default action would kill us before cleanup
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [cleanups] in
                let pending = cleanups.withLockedValue { list in
                    defer { list = [] }
                    return list
                }
                for cleanup in pending.reversed() {
                    cleanup()
                }
                exit(128 + signalNumber)
            }
            source.resume()
            made.append(source)
        }
        sources = made
    }

    /// Runs `cleanup` on an interrupt; later registrations run first.
    public func register(_ cleanup: @escaping @Sendable () -> Void) {
        cleanups.withLockedValue { $0.append(cleanup) }
    }
}
