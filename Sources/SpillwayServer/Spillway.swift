import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SpillwayCore

/// A running Spillway: its listeners, event loops and pools.
public final class Spillway: Sendable {
    /// TCP port the first listener bound (useful with listen_port = 0).
    public let port: Int
    /// Path of the Unix socket, when unix_socket_dir is set.
    public let unixSocketPath: String?
    /// Port of the /metrics and /healthz listener, when metrics_listen_addr is set.
    public let metricsPort: Int?

    private let group: MultiThreadedEventLoopGroup
    private let ownsGroup: Bool
    private let channels: [Channel]
    /// The /metrics listener among `channels`, kept open by a drain.
    private let metricsChannel: Channel?
    private let executor: PoolExecutor
    private let maintenance: [RepeatedTask]
    private let logger: Logger
    /// Set by the first shutdown: a second one (another signal) does nothing.
    private let stopping = NIOLockedValueBox(false)
    /// Set when a drain or shutdown begins: /healthz answers 503 from then on.
    private let leaving: NIOLockedValueBox<Bool>
    /// Set once a console SHUTDOWN has finished stopping everything.
    let stopped = NIOLockedValueBox(false)
    /// Set when shutdown() has closed everything, with whoever waits for that.
    private let finished = NIOLockedValueBox<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// True once a SHUTDOWN from the admin console has stopped Spillway: the process should exit.
    public var hasStopped: Bool { stopped.withLockedValue { $0 } }

    private init(port: Int, unixSocketPath: String?, metricsPort: Int?, leaving: NIOLockedValueBox<Bool>,
                 group: MultiThreadedEventLoopGroup, ownsGroup: Bool,
                 channels: [Channel], metricsChannel: Channel?, executor: PoolExecutor, maintenance: [RepeatedTask],
                 logger: Logger) {
        self.metricsChannel = metricsChannel
        self.port = port
        self.unixSocketPath = unixSocketPath
        self.metricsPort = metricsPort
        self.leaving = leaving
        self.group = group
        self.ownsGroup = ownsGroup
        self.channels = channels
        self.executor = executor
        self.maintenance = maintenance
        self.logger = logger
    }

    /// Starts listening with `config`, reading auth_file if set. Throws when a listener cannot bind or the
    /// auth_file cannot be read.
    /// `logOutput`: where the log goes, reopened on every reload (SIGHUP, RELOAD) for logrotate.
    public static func start(config: Config, logger: Logger, logOutput: LogOutput? = nil) async throws -> Spillway {
        var userList = UserList(passwords: [:])
        if let authFile = config.settings.authFile {
            userList = try UserList.load(path: authFile)
        }
        let settings = config.settings
        let threads = settings.threads ?? System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var loops: [EventLoop] = []
        var iterator = group.makeIterator()
        while let loop = iterator.next() { loops.append(loop) }
        let metrics = settings.metricsListenAddr.isEmpty ? nil : SpillwayMetrics()
        let executor = PoolExecutor(loops: loops, config: RuntimeConfig(config: config, userList: userList),
                                    logger: logger, metrics: metrics)
        let leaving = NIOLockedValueBox(false)

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(settings.listenBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // TCP_NODELAY: ServerBootstrap sets it on accepted TCP sockets at IPPROTO_TCP. (At SOL_SOCKET, option 1
            // is SO_DEBUG: EACCES for anyone but root.)
            // Idle clients are most clients: start each with a small receive buffer that grows with traffic.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    TCPOptions.apply(to: channel, settings: executor.config.settings, logger: logger)
                    let client = ClientConnection(executor: executor, loop: channel.eventLoop, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(client)
                }
            }
        let reusePort = settings.soReuseport
        var channels: [Channel] = []
        do {
            var port = settings.listenPort
            for address in settings.listenAddr {
                let host = address == "*" ? "0.0.0.0" : address
                let channel = try await bootstrap
                    .serverChannelOption(ChannelOptions.Types.SocketOption(level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: reusePort ? 1 : 0)
                    .bind(host: host, port: port).get()
                channels.append(channel)
                // With listen_port 0 every address shares the port the first one got.
                if port == 0, let bound = channel.localAddress?.port { port = bound }
                logger.info("listening", metadata: ["addr": "\(host):\(port)"])
            }
            var unixPath: String?
            if !settings.unixSocketDir.isEmpty, settings.listenPort != 0 || channels.isEmpty == false {
                let path = "\(settings.unixSocketDir)/.s.PGSQL.\(port)"
                let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                channels.append(channel)
                unixPath = path
                try UnixSocketAccess.apply(path: path, settings: settings)
                logger.info("listening", metadata: [
                    "unix": "\(path)", "mode": "0\(String(settings.unixSocketMode, radix: 8))",
                ])
            }
            var metricsPort: Int?
            var metricsChannel: Channel?
            if let metrics {
                let source = MetricsHTTPHandler.Source(
                    metrics: { reply in
                        executor.view(now: .now) { view in
                            reply(metrics.render(
                                view: view, settings: executor.config.settings, loops: executor.loops.count,
                                healthy: Self.unhealthyReason(executor, leaving) == nil))
                        }
                    },
                    unhealthyReason: { Self.unhealthyReason(executor, leaving) })
                let channel = try await MetricsListener.bind(group: group, settings: settings, source: source, logger: logger)
                channels.append(channel)
                metricsChannel = channel
                metricsPort = channel.localAddress?.port
            }
            let maintenance = loops[0].scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                executor.maintain()
            }
            // Idle-in-transaction reclaim cannot wait a second: waiting clients are the API's latency.
            let reclaim = loops[loops.count > 1 ? 1 : 0].scheduleRepeatedTask(
                initialDelay: .milliseconds(100), delay: .milliseconds(100)
            ) { _ in executor.reclaimTick() }
            let spillway = Spillway(
                port: port, unixSocketPath: unixPath, metricsPort: metricsPort, leaving: leaving, group: group,
                ownsGroup: true, channels: channels, metricsChannel: metricsChannel, executor: executor, maintenance: [maintenance, reclaim],
                logger: logger)
            if let logOutput {
                executor.reopenLog.withLockedValue { reopen in
                    reopen = { path in
                        if case .failure(let failure) = logOutput.reopen(path: path) {
                            logger.error("could not reopen the log file; logging to the old one", metadata: [
                                "error": "\(failure)",
                            ])
                        }
                    }
                }
            }
            executor.shutdownRequest.withLockedValue { request in
                request = { [weak spillway] drain in
                    guard let spillway else { return }
                    Task {
                        if drain { await spillway.drain(timeout: nil) } else { await spillway.shutdown() }
                        spillway.stopped.withLockedValue { $0 = true }
                    }
                }
            }
            return spillway
        } catch {
            for channel in channels { try? await channel.close() }
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Graceful stop: stops accepting, lends no more servers, waits until every transaction in progress has
    /// ended (at most `timeout`; nil waits as long as it takes), then closes everything.
    public func drain(timeout: Duration?) async {
        leaving.withLockedValue { $0 = true }
        logger.info("draining", metadata: ["timeout_s": "\(timeout.map { "\($0.components.seconds)" } ?? "none")"])
        // Client listeners only: /healthz keeps answering 503 "shutting down" while transactions finish.
        for channel in channels where channel !== metricsChannel { try? await channel.close() }
        executor.pause(database: nil)
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while !executor.isQuiescent(database: nil) {
            if let deadline, ContinuousClock.now >= deadline {
                logger.warning("shutdown_timeout reached with transactions still running; closing them")
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        await shutdown()
    }

    /// Stops listening, closes every client (FATAL 57P01) and server connection, and stops the event loops.
    public func shutdown() async {
        guard stopping.withLockedValue({ stopping in
            defer { stopping = true }
            return !stopping
        }) else { return }
        leaving.withLockedValue { $0 = true }
        for task in maintenance { task.cancel() }
        for channel in channels { try? await channel.close() }
        executor.closeAllClients()
        executor.closeAllServers()
        if ownsGroup { try? await group.shutdownGracefully() }
        logger.info("stopped")
        let waiters = finished.withLockedValue { finished in
            finished.done = true
            defer { finished.waiters = [] }
            return finished.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once Spillway has stopped: after a drain or shutdown from anywhere (signal, console SHUTDOWN).
    public func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = finished.withLockedValue { finished in
                if !finished.done { finished.waiters.append(continuation) }
                return finished.done
            }
            if done { continuation.resume() }
        }
    }

    /// Why /healthz answers 503, or nil while Spillway accepts clients.
    static func unhealthyReason(_ executor: PoolExecutor, _ leaving: NIOLockedValueBox<Bool>) -> String? {
        if leaving.withLockedValue({ $0 }) { return "shutting down" }
        if executor.isPausedAll { return "paused" }
        return nil
    }

    /// SIGUSR1: like the console's PAUSE for every database (servers are closed once all are back).
    public func pause() {
        executor.pause(database: nil)
        Task {
            while !executor.isQuiescent(database: nil) { try? await Task.sleep(for: .milliseconds(20)) }
            executor.reconnect(database: nil)
        }
    }

    /// SIGUSR2: like the console's RESUME.
    public func resume() {
        executor.resume(database: nil)
    }

    /// Reads the configuration file and auth_file again (SIGHUP, RELOAD). An invalid file is refused as a
    /// whole, logged with file and line, and the running configuration stays.
    @discardableResult
    public func reload() -> Result<Void, ConfigError> {
        executor.reload()
    }

    /// Counters of one pool: servers open, idle, assigned, and clients waiting. Nil if the pool does not exist.
    public func poolCounts(database: String, user: String) -> (servers: Int, idle: Int, active: Int, waiting: Int)? {
        executor.poolSnapshot(PoolKey(database: database, user: user))
    }
}
