#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import PostgresWire
import SpillwayCore
import SpillwayEngine
import Synchronization

/// Spillway's data plane on its own engine: the loops, the listeners, each loop's shards, and the little all
/// loops share (pool-wide state, the bounds shared by pools, max_client_conn, cancel keys, IDs).

public final class DataPlane: Sendable {
    let group: IOLoopGroup
    /// Each loop's shards, by loop index; each touched only on its loop.
    var shards: [LoopShards] { shardsBox.value }
    /// The configuration of new logins; each loop keeps its own copy, replaced by RELOAD and SET.
    var runtime: RuntimeConfig { runtimeBox.withLock { $0 } }
    let runtimeBox: Mutex<RuntimeConfig>
    /// PAUSE, DISABLE: remembered so that pools first used meanwhile start paused.
    let operatorState = Mutex(OperatorState())
    /// Set by the command: SHUTDOWN from the console drains and stops the process.
    let shutdownRequest = Mutex<(@Sendable (Bool) -> Void)?>(nil)
    /// Set by the command when it logs to a file: reopens it (its path from the new configuration) on reload.
    let reopenLog = Mutex<(@Sendable (String?) -> Void)?>(nil)

    struct OperatorState {
        var pausedAll = false
        var paused: Set<String> = []
        var disabled: Set<String> = []

        func isPaused(_ database: String) -> Bool { pausedAll || paused.contains(database) }
    }
    /// max_client_conn.
    let clientConnections: SharedLimit
    private let listeners: [Listener]
    let pools = Mutex<[PoolKey: PoolInfo]>([:])
    /// max_db_connections per database, max_user_connections per user, the budget per host.
    let bounds = Mutex<[String: SharedLimit]>([:])
    private let cancelKeys = Mutex<[CancelRequest: (loop: Int, client: ClientID)]>([:])
    private let clientIDs = Atomic<UInt64>(0)
    private let serverIDs = Atomic<UInt64>(0)
    private let upkeepTimers = Mutex<[TimerID?]>([])
    let logger: Logger
    /// The TCP port bound (useful with listen_port = 0).
    public let port: Int
    /// The Unix socket, when unix_socket_dir is set.
    public let unixSocketPath: String?

    /// Binds the listeners and starts the loops.
    public static func start(config: Config, logger: Logger, logOutput: LogOutput? = nil) throws -> DataPlane {
        var userList = UserList(passwords: [:])
        if let authFile = config.settings.authFile { userList = try UserList.load(path: authFile) }
        let runtime = RuntimeConfig(config: config, userList: userList)
        let settings = config.settings
        var listeners: [Listener] = []
        var port = settings.listenPort
        do {
            for address in settings.listenAddr {
                let host = address == "*" ? "0.0.0.0" : address
                guard let bindAddress = NetworkAddress(numericHost: host, port: port) else {
                    throw DataPlaneError.unsupported("listen_addr \(address): the engine data plane binds numeric addresses only")
                }
                let listener = try Listener(bindingTo: bindAddress, backlog: Int32(settings.listenBacklog),
                    reusePort: settings.soReuseport)
                listeners.append(listener)
                if port == 0, let bound = listener.address.port { port = bound }
                logger.info("listening", metadata: ["addr": "\(listener.address)", "data_plane": "engine"])
            }
            var unixPath: String?
            if !settings.unixSocketDir.isEmpty {
                let path = "\(settings.unixSocketDir)/.s.PGSQL.\(port)"
                unlink(path)
                guard let address = NetworkAddress(unixPath: path) else {
                    throw DataPlaneError.unsupported("unix socket path too long: \(path)")
                }
                listeners.append(try Listener(bindingTo: address, backlog: Int32(settings.listenBacklog)))
                try UnixSocketAccess.apply(path: path, settings: settings)
                unixPath = path
                logger.info("listening", metadata: ["unix": "\(path)", "data_plane": "engine"])
            }
            let group = try IOLoopGroup(loops: settings.threads ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            let plane = DataPlane(group: group, runtime: runtime, listeners: listeners, port: port,
                unixSocketPath: unixPath, logger: logger)
            plane.installConsoleShutdown()
            if let logOutput {
                plane.reopenLog.withLock { reopen in
                    reopen = { path in
                        if case .failure(let failure) = logOutput.reopen(path: path) {
                            logger.error("could not reopen the log file; logging to the old one", metadata: [
                                "error": "\(failure)",
                            ])
                        }
                    }
                }
            }
            plane.begin()
            return plane
        } catch {
            for listener in listeners { listener.stop() }
            throw error
        }
    }

    private init(group: IOLoopGroup, runtime: RuntimeConfig, listeners: [Listener], port: Int, unixSocketPath: String?,
        logger: Logger)
    {
        self.group = group
        self.runtimeBox = Mutex(runtime)
        self.listeners = listeners
        self.port = port
        self.unixSocketPath = unixSocketPath
        self.logger = logger
        self.clientConnections = SharedLimit(name: "max_client_conn", limit: runtime.settings.maxClientConn)
        self.metrics = runtime.settings.metricsListenAddr.isEmpty ? nil : SpillwayMetrics()
        self.shardsBox = ShardsBox()
        shardsBox.value = group.loops.map { LoopShards(loop: $0, plane: self, runtime: runtime, logger: logger) }
    }

    /// Set once in `init` (the shards point back at the plane, so they are made after it).
    private let shardsBox: ShardsBox

    private final class ShardsBox: @unchecked Sendable {
        var value: [LoopShards] = []
    }

    private func begin() {
        for listener in listeners {
            listener.start(on: group.loops, failed: { [logger] error in
                logger.error("accept failed", metadata: ["error": "\(error)"])
            }) { [self] incoming in
                self.shards[incoming.loop.index].accept(incoming.socket, peer: incoming.peer)
            }
        }
        for shards in shards {
            shards.loop.execute { [self] in self.scheduleUpkeep(shards) }
        }
        scheduleWatch()
    }

    private func scheduleUpkeep(_ shards: LoopShards) {
        shards.loop.schedule(at: shards.loop.now + .milliseconds(100)) { [self] in
            shards.upkeep()
            self.scheduleUpkeep(shards)
        }
    }

    /// Stops accepting, closes every client (FATAL 57P01) and server, and stops the loops. Once; later calls
    /// return at once.
    public func shutdown() {
        let first = lifecycle.withLock { state in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else { return }
        stopListening()
        for shards in shards {
            shards.loop.execute { shards.closeEverything() }
        }
        group.shutdown()
        if let server = metricsServer.withLock({ $0 }) { try? server.group.syncShutdownGracefully() }
        logger.info("stopped")
        let waiters = lifecycle.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Closes the listeners (once): no new client gets in.
    func stopListening() {
        let first = lifecycle.withLock { state in
            defer { state.leaving = true }
            return !state.leaving
        }
        guard first else { return }
        for listener in listeners { listener.stop() }
        if let unixSocketPath { unlink(unixSocketPath) }
    }

    let lifecycle = Mutex(Lifecycle())
    /// Prometheus metrics, when metrics_listen_addr is set; served by `startMetrics` on a SwiftNIO thread of
    /// its own, off the data path.
    let metrics: SpillwayMetrics?
    let metricsServer = Mutex<(group: MultiThreadedEventLoopGroup, channel: Channel)?>(nil)
    let leakBook = Mutex(LeakBook())
    let watchState = Mutex(WatchState())
    let admission = Mutex(Admission())
    let budgets = Mutex(BudgetBook())

    struct Lifecycle {
        /// Listeners closed: draining or stopped.
        var leaving = false
        var stopping = false
        var done = false
        /// A console SHUTDOWN stopped the process.
        var stoppedFromConsole = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    // MARK: Shared by the loops

    func nextClientID() -> ClientID { ClientID(clientIDs.add(1, ordering: .relaxed).newValue) }
    func nextServerID() -> ServerID { ServerID(serverIDs.add(1, ordering: .relaxed).newValue) }

    /// The pool-wide state of `key`, made at the pool's first login on any loop.
    func poolInfo(_ key: PoolKey, database: DatabaseConfig, user: String) -> PoolInfo {
        let runtime = self.runtime
        return pools.withLock { pools in
            if let known = pools[key] { return known }
            let limits = runtime.limits(database: database, user: user)
            let target = ServerTarget(database: database, user: key.user)
            // Every pool counts against its database's and user's bounds, unlimited (Int.max) when the setting
            // is 0, so that RELOAD can set them later.
            // A break-glass user's pool counts only against its host's reserve: that is what it is for.
            let host = hostBounds(target.address.description, settings: runtime.settings)
            let others = runtime.settings.breakGlassUsers.contains(key.user)
                ? [host.breakGlass]
                : Self.boundLimits(key: key, runtime: runtime).map { bound($0.name, limit: $0.limit) } + [host.others]
            let shared = PoolShared(key: key, poolSize: limits.poolSize, reserve: limits.reservePoolSize, others: others,
                loops: group.loops.count)
            let info = PoolInfo(key: key, target: target, limits: limits, shared: shared)
            pools[key] = info
            return info
        }
    }

    /// The shared bounds of pool `key` and their limits under `runtime`.
    static func boundLimits(key: PoolKey, runtime: RuntimeConfig) -> [(name: String, limit: Int)] {
        let config = runtime.config
        let databaseLimit = config.database(named: key.database).map { config.maxDBConnections(database: $0) } ?? 0
        let userLimit = config.maxUserConnections(user: key.user)
        return [
            (name: "max_db_connections \(key.database)", limit: databaseLimit > 0 ? databaseLimit : Int.max),
            (name: "max_user_connections \(key.user)", limit: userLimit > 0 ? userLimit : Int.max),
        ]
    }

    private func bound(_ name: String, limit: Int) -> SharedLimit {
        bounds.withLock { bounds in
            if let known = bounds[name] { return known }
            let created = SharedLimit(name: name, limit: limit)
            bounds[name] = created
            return created
        }
    }

    /// Gives a logged-in client its cancel key.
    func register(_ client: ClientDriver) -> CancelRequest {
        while true {
            let key = CancelRequest(processID: Int32.random(in: 1...Int32.max), secretKey: Int32.random(in: .min ... .max))
            let inserted = cancelKeys.withLock { keys -> Bool in
                guard keys[key] == nil else { return false }
                keys[key] = (client.loop.index, client.id)
                return true
            }
            if inserted { return key }
        }
    }

    func unregister(_ key: CancelRequest) {
        _ = cancelKeys.withLock { $0.removeValue(forKey: key) }
    }

    /// A CancelRequest: the query of the client it names is cancelled on the server that client holds, with
    /// that server's own key, over a new connection (as PostgreSQL expects).
    func cancel(_ request: CancelRequest) {
        guard let (loopIndex, clientID) = cancelKeys.withLock({ $0[request] }) else { return }
        let shards = shards[loopIndex]
        shards.loop.execute { [self] in
            guard let server = shards.clients[clientID]?.server else { return }
            self.cancelQuery(on: server, from: shards)
        }
    }

    /// Cancels what `server` runs, with its own key, over a new connection (on the server's loop), if it
    /// still works for the same client when the connection is made; cancel_wait_timeout bounds the connect.
    func cancelQuery(on server: ServerDriver, from shards: LoopShards) {
        guard let key = server.session.backendKey, case .active(let client) = server.session.state else { return }
        let endpoint: Endpoint
        switch server.target.address {
        case .tcp(let host, let port): endpoint = .tcp(host: host, port: port)
        case .unix(let path): endpoint = .unix(path: path)
        }
        let timeout = Duration.milliseconds(Int64(max(shards.runtime.settings.cancelWaitTimeout, 0.1) * 1000))
        let logger = self.logger
        shards.loop.connect(to: endpoint, timeout: timeout) { [weak server] result in
            switch result {
            case .success(let socket):
                // The cancel must land while the server still works for this client, not for the next one.
                guard let server, case .active(client) = server.session.state,
                    let connection = try? Connection(socket: socket, loop: shards.loop)
                else {
                    socket.close()
                    return
                }
                connection.write { key.encode(into: &$0) }
                connection.close()
            case .failure(let error):
                logger.warning("could not send cancel request to server", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Leak records

    /// Clients the leak guard took servers from lately (the last 100, for 10 minutes), so SHOW LEAKS still names
    /// them after they are gone, and every application's count of leaks seen.
    struct LeakBook {
        var recent: [(at: ContinuousClock.Instant, row: [String?])] = []
        var seen: [String: Int] = [:]
    }

    static let reclaimsKept = 100
    static let reclaimsKeptFor = Duration.seconds(600)

    /// A client of `application` became a leak suspect.
    func leakSeen(_ application: String) {
        leakBook.withLock { $0.seen[application, default: 0] += 1 }
    }

    func recordReclaimed(_ row: [String?], application: String) {
        let now = ContinuousClock.now
        leakBook.withLock { book in
            book.seen[application, default: 0] += 1
            book.recent.removeAll { now - $0.at > Self.reclaimsKeptFor }
            if book.recent.count >= Self.reclaimsKept { book.recent.removeFirst() }
            book.recent.append((now, row))
        }
    }
}

/// A setting the engine data plane does not handle yet.
enum DataPlaneError: Error, CustomStringConvertible {
    case unsupported(String)
    var description: String {
        switch self {
        case .unsupported(let what): what
        }
    }
}
