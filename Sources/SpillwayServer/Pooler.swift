import SpillwayCore

/// What the command and its signal handling ask of a running data plane.
public protocol Pooler: Sendable {
    /// The Unix socket, when unix_socket_dir is set.
    var unixSocketPath: String? { get }
    /// True once a console SHUTDOWN stopped it from inside.
    var hasStopped: Bool { get }
    /// Graceful stop: stops accepting, lends no more servers, waits until every transaction in progress has
    /// ended (at most `timeout`; nil waits as long as it takes), then closes everything.
    func drain(timeout: Duration?) async
    /// Stops listening, closes every client (FATAL 57P01) and server connection, and stops the loops.
    func shutdown() async
    /// Returns once stopped, after a drain or shutdown from anywhere (signal, console SHUTDOWN).
    func waitUntilStopped() async
    /// SIGUSR1: PAUSE for every database (servers are closed once all are back).
    func pause()
    /// SIGUSR2: RESUME.
    func resume()
    /// SIGHUP: reads the configuration file and auth_file again; an invalid file is refused as a whole.
    @discardableResult
    func reload() -> Result<Void, ConfigError>
}
