#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import Synchronization
import Logging
import NIOCore
import PostgresWire
import SpillwayCore

/// Where a client connection is in its life (on its event loop).
enum ClientPhase {
    /// Reading SSLRequest / CancelRequest / StartupMessage.
    case startup(StartupDecoder)
    /// Exchanging authentication messages.
    case authenticating(ClientLogin, LoginRequest)
    /// Authenticated; waiting for a first server of the pool to learn the ParameterStatus set.
    case fetchingParameters
    /// Logged in: messages flow through the session.
    case ready
    /// Logged in to the admin console; `isAdmin`: may run more than SHOW.
    case console(isAdmin: Bool)
    /// The console runs a command that waits (PAUSE); further commands wait in the decoder.
    case consoleBusy(isAdmin: Bool)
    case closed
}

/// What a client asked for in its startup packet.
struct LoginRequest {
    var user: String
    var database: String
}

/// One application connection to Spillway, and the channel handler that reads it.
///
/// Every mutable property is touched only on `loop`. Server frames reach it through `receiveFromServer`, on
/// this loop.
final class ClientConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let id: ClientID
    let loop: EventLoop
    let loopIndex: Int
    unowned(unsafe) let executor: PoolExecutor
    private let baseLogger: Logger
    /// Who the client is, for log lines; kept as plain fields and turned into metadata only when a line is
    /// written, so an idle client carries no metadata dictionary.
    private var remoteForLog = "unix"
    var userForLog: String?
    var databaseForLog: String?

    /// The logger with this client's facts as metadata.
    var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "client"] = "\(id)"
        logger[metadataKey: "remote"] = "\(remoteForLog)"
        if let userForLog { logger[metadataKey: "user"] = "\(userForLog)" }
        if let databaseForLog { logger[metadataKey: "db"] = "\(databaseForLog)" }
        if !tag.application.isEmpty { logger[metadataKey: "app"] = "\(tag.application)" }
        return logger
    }
    let runtime: RuntimeConfig

    var context: ChannelHandlerContext?
    var phase = ClientPhase.startup(StartupDecoder())
    var session = ClientSession(mode: .transaction)
    var decoder: FrameDecoder
    /// Messages kept while waiting for a server.
    var held: [Frame] = []
    var linkedServer: ServerConnection?
    /// Tracked parameters this client wants on any server it uses.
    var wantedParameters = TrackedParameters()
    var cancelKey: CancelRequest?
    var pool: PoolKey?
    var tag: ClientTag
    var admitted = false
    private var wroteToServer = false
    /// Bytes of `held`: bounded by pausing reads.
    var heldBytes = 0
    var loginTimer: Scheduled<Void>?
    /// transaction_timeout: armed when ReadyForQuery says a transaction began, cancelled when it ends.
    var transactionTimer: Scheduled<Void>?
    /// query_wait_notify: set once the notice went out (or no wait is in progress).
    var waitNoticeSent = true
    let connectedAt = ContinuousClock.now
    let connectedAtWall = time(nil)
    /// Wall-clock time the client last started a transaction (SHOW CLIENTS request_time).
    var requestAtWall = time(nil)
    var remote = "unknown"
    /// The client's IP address without port ("unix" on the socket): its application when it names none.
    var remoteHost = "unix"
    /// The linked server's FATAL ErrorResponse, held until the server's connection closes.
    var serverFatal: ErrorResponse?
    /// Why the connection ended, for the disconnect log line (nil: the client just went away).
    var closeReason: String?
    /// Counters for SHOW STATS and /metrics, handed to the pool with the server (or every second).
    var traffic = ClientTraffic()
    /// The pool's wait-time histogram, when metrics are on.
    var waitTimer: CoreMetrics.Timer?
    /// What the client is doing, for upkeep and the leak guard on other threads (a `ClientActivity` word);
    /// `publishedActivity` is this loop's copy.
    let activity = Atomic<UInt64>(0)
    var publishedActivity: UInt64 = 0
    /// How promptly this client has released its servers: its standing among waiters.
    var record = ReleaseRecord()
    /// Its pool's shared counters.
    var poolGauges: PoolGauges?
    /// The start of the body of the last Query or Parse sent in the current transaction (a slice, no copy),
    /// for leak reports; dropped when the transaction ends.
    var lastStatement: ByteBuffer?
    var lastStatementType = MessageType.query
    static let statementBytesKept = 512

    /// The first 200 characters of the last statement's text (no parameter values: Parse carries `$1`).
    var lastStatementForLog: String {
        guard var body = lastStatement else { return "" }
        if lastStatementType == .parse { _ = body.readNullTerminatedString() }  // the statement name
        let text = body.readNullTerminatedString() ?? body.readString(length: body.readableBytes) ?? ""
        return String(text.prefix(200))
    }

    init(executor: PoolExecutor, loop: EventLoop, logger: Logger) {
        self.id = executor.nextClientID()
        self.loop = loop
        self.loopIndex = executor.loopIndex(of: loop)
        self.executor = executor
        self.runtime = executor.config
        // Until login completes no message needs more than this (PostgreSQL's own cap for auth messages).
        self.decoder = FrameDecoder(maxMessageSize: min(runtime.settings.maxPacketSize, Self.loginMessageLimit))
        self.tag = ClientTag(client: id, loop: loopIndex, application: "")
        self.baseLogger = logger
    }

    static let loginMessageLimit = 65_536
    static let heldBytesLimit = 1 << 20

    /// Runs `body` on the client's loop: now if already there.
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.remoteAddress {
            remote = address.description
            remoteForLog = address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "unix"
            remoteHost = address.ipAddress ?? "unix"
        }
        admitted = executor.admitClient()
        let timeout = runtime.settings.clientLoginTimeout
        if timeout > 0 {
            loginTimer = loop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) { [self] in
                switch phase {
                case .ready, .closed: break
                default:
                    logger.info("client did not finish login in time", metadata: ["timeout_s": "\(timeout)"])
                    fatal(.connectionFailure, "terminating connection due to client_login_timeout",
                          detail: "The client did not complete its login within \(timeout) s.")
                }
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The client cannot take more: stop reading its server until it can.
        linkedServer?.setReading(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            switch phase {
            case .startup(var startup):
                startup.append(buffer)
                phase = .startup(startup)
                try readStartup()
            case .ready:
                traffic.received(buffer.readableBytes)
                decoder.append(buffer)
                try readFrames()
            case .authenticating, .fetchingParameters, .console, .consoleBusy:
                decoder.append(buffer)
                try readFrames()
            case .closed:
                return
            }
        } catch {
            logger.info("client sent a malformed message", metadata: ["error": "\(error)"])
            fatal(error.sqlState, String(describing: error))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if wroteToServer {
            wroteToServer = false
            linkedServer?.flush()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = phase
        phase = .closed
        loginTimer?.cancel()
        transactionTimer?.cancel()
        switch previous {
        case .fetchingParameters:
            if let pool { executor.cancelWait(id, key: pool) }
        case .ready:
            releaseOnClose()
        default:
            break
        }
        held = []
        executor.unregister(self, cancelKey: cancelKey)
        if admitted { executor.clientConnectionClosed() }
        if cancelKey != nil, runtime.settings.logDisconnections {
            logger.info("client closed", metadata: [
                "age_s": "\(Self.seconds(ContinuousClock.now - connectedAt))",
                "reason": "\(closeReason ?? "the client closed the connection")",
            ])
        }
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func releaseOnClose() {
        publish(.unknown)
        let stats = traffic.take(at: Self.uptimeNanos())
        if let pool, !stats.isEmpty, linkedServer == nil { executor.record(stats, key: pool) }
        switch session.clientClosed() {
        case .none:
            break
        case .cancelWait:
            if let pool { executor.cancelWait(id, key: pool) }
        case .release(_, let rollback, let reset):
            guard let server = linkedServer else { return }
            linkedServer = nil
            var statements: [String] = []
            if rollback { statements.append("ROLLBACK") }
            let resetQuery = runtime.settings.serverResetQuery
            if (reset || runtime.settings.serverResetQueryAlways) && !resetQuery.isEmpty { statements.append(resetQuery) }
            executor.release(server, from: self, statements: statements, stats: stats)
        case .closeServer:
            guard let server = linkedServer else { return }
            linkedServer = nil
            executor.release(server, from: self, statements: [], reusable: false, stats: stats)
        }
    }

    // MARK: Frames from the client

    func readFrames() throws(WireError) {
        while true {
            switch phase {
            case .authenticating(var login, let request):
                guard let frame = try decoder.next() else { return }
                guard frame.type == .password,
                      let message = try FrontendMessage(frame: frame, passwordContext: login.expectedContext)
                else {
                    fatal(.protocolViolation, "expected a password message, got message type \(frame.type)")
                    return
                }
                let step = login.receive(message)
                advanceLogin(step, login: login, request: request)
            case .ready:
                try forwardClientFrames()
                return
            case .console(let isAdmin):
                guard let frame = try decoder.next() else { return }
                consoleFrame(frame, isAdmin: isAdmin)
            default:
                return  // startup handled elsewhere; while fetching parameters, bytes wait in the decoder
            }
        }
    }

    /// The forwarding path: frames the session forwards leave in one slice per read (headers read, bodies
    /// untouched); only frames to hold or act on are cut out one by one.
    private func forwardClientFrames() throws(WireError) {
        while case .ready = phase, let header = try decoder.peek() {
            guard header.type.isValidAfterLogin else {
                flushRunToServer()
                protocolViolation(header.type)
                return
            }
            if case .linked = session.state, header.type != .terminate {
                _ = session.clientMessage(header.type, now: ContinuousClock.now)
                if traffic.isBetweenRequests { requestStarted(at: Self.uptimeNanos()) }
                if header.type == .query || header.type == .parse {
                    lastStatement = decoder.peekBody(header, upTo: Self.statementBytesKept)
                    lastStatementType = header.type
                }
                decoder.extendRun(header)
                continue
            }
            flushRunToServer()
            guard let frame = try decoder.next() else { return }
            clientFrame(frame)
        }
        flushRunToServer()
    }

    @inline(__always)
    private func flushRunToServer() {
        guard let run = decoder.takeRun() else { return }
        linkedServer!.write(run)
        wroteToServer = true
    }

    @inline(__always)
    func clientFrame(_ frame: Frame) {
        if frame.type == .query || frame.type == .parse {
            var body = frame.body
            lastStatement = body.readSlice(length: min(body.readableBytes, Self.statementBytesKept))
            lastStatementType = frame.type
        }
        switch session.clientMessage(frame.type, now: ContinuousClock.now) {
        case .forward:
            if traffic.isBetweenRequests { requestStarted(at: Self.uptimeNanos()) }
            linkedServer!.write(frame.bytes)
            wroteToServer = true
        case .holdAndAcquire:
            requestAtWall = time(nil)
            let now = Self.uptimeNanos()
            traffic.waitStarted(at: now)
            publish(.busy(since: now))
            held.append(frame)
            heldBytes += frame.bytes.readableBytes
            armWaitNotice()
            if let pool { waitForServer(pool) }
        case .hold:
            held.append(frame)
            heldBytes += frame.bytes.readableBytes
            // Held messages live in Spillway's memory: past a bound, let them wait in the socket instead.
            if heldBytes > Self.heldBytesLimit { setReading(false) }
        case .terminate:
            closeReason = "the client sent Terminate"
            phase = .closed
            releaseOnClose()
            context?.close(promise: nil)
        }
    }

    // MARK: Server assignment

    /// The pool's server is attached (or could not be): runs on the client's loop.
    func serverAttached(_ server: ServerConnection, result: Result<AttachInfo, ServerFailure>) {
        if case .success(let info) = result, let synced = info.synced {
            for (key, _) in TrackedParameters.names {
                if let value = synced[key], wantedParameters[key] != nil { wantedParameters.set(key, value) }
            }
        }
        switch (phase, result) {
        case (.fetchingParameters, .success(let info)):
            executor.release(server, from: self, statements: [])
            setReading(true)
            finishLogin(serverParameters: info.reported ?? [])
        case (.ready, .success):
            guard case .waiting = session.state else {
                executor.release(server, from: self, statements: [])
                return
            }
            session.serverAssigned(server.id)
            disarmWaitNotice()
            let now = Self.uptimeNanos()
            let waited = traffic.assigned(at: now)
            waitTimer?.recordNanoseconds(Int64(clamping: waited))
            if !held.isEmpty { requestStarted(at: now) }
            linkedServer = server
            writeHeld(to: server)
            server.flush()
            resumeIfPaused()
        case (_, .failure(let failure)):
            server.close()
            acquireFailed(failure)
        default:
            executor.release(server, from: self, statements: [])
        }
    }

    /// Writes the held messages to the newly attached server in one write: an extended-protocol batch
    /// (Parse/Bind/Describe/Execute/Sync) is five frames, and five pipeline writes cost more than one copy.
    private func writeHeld(to server: ServerConnection) {
        for frame in held { session.heldMessageForwarded(frame.type) }
        if held.count == 1 {
            server.write(held[0].bytes)
        } else if !held.isEmpty, let context {
            var batch = context.channel.allocator.buffer(capacity: heldBytes)
            for frame in held { batch.writeImmutableBuffer(frame.bytes) }
            server.write(batch)
        }
        held.removeAll(keepingCapacity: true)
    }

    /// No server could be had for this client.
    func acquireFailed(_ failure: ServerFailure) {
        let code = failure.serverError?.code ?? .connectionFailure
        let message = failure.serverError?.message ?? failure.message
        if runtime.settings.logPoolerErrors {
            logger.warning("no server for client", metadata: [
                "sqlstate": "\(code.rawValue)", "reason": "\(failure.message)",
            ])
        }
        let detail = failure.retryPaused
            ? "Spillway's last login to the server failed; it tries again after server_login_retry."
            : (failure.serverError == nil ? nil : "Spillway could not log in to the server.")
        switch phase {
        case .fetchingParameters:
            fatal(code, message, detail: detail)
        case .ready:
            guard case .waiting = session.state else { return }
            session.acquireFailed()
            disarmWaitNotice()
            answerHeld(with: ErrorResponse(severity: .error, code: code, message: message, detail: detail))
        default:
            break
        }
    }

    private func resumeIfPaused() {
        if heldBytes > Self.heldBytesLimit { setReading(true) }
        heldBytes = 0
    }

    /// Answers held messages with one error and a ReadyForQuery for each that expected one.
    private func answerHeld(with error: ErrorResponse) {
        defer { resumeIfPaused() }
        guard let context else { return }
        executor.metrics?.errorSent(error.code?.rawValue ?? "XX000", origin: "spillway")
        // One ReadyForQuery for each held message that expected one; an unsynced batch gets the error alone
        // and its coming Sync is answered by whichever server serves it.
        let syncs = held.reduce(0) { $0 + ($1.type.endsWithReadyForQuery ? 1 : 0) }
        held.removeAll(keepingCapacity: true)
        var buffer = context.channel.allocator.buffer(capacity: 128)
        error.encode(into: &buffer)
        for _ in 0..<syncs { BackendMessage.readyForQuery(.idle).encode(into: &buffer) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Asks the pool for a server.
    func waitForServer(_ key: PoolKey) {
        tag.standing = record.standing
        tag.opensTransaction = held.first.map { frame in
            guard frame.type == .query else { return false }
            // In place, no copy: this runs on every wait of a saturated pool.
            return frame.body.withUnsafeReadableBytes { bytes in
                TransactionStart.opens(UnsafeRawBufferPointer(rebasing: bytes.prefix(256)).bindMemory(to: UInt8.self))
            }
        } ?? false
        executor.acquire(self, key: key, tag: tag, wanted: wantedParameters)
    }

    /// Stops or resumes reading the client's socket (on the client's loop).
    func setReading(_ reading: Bool) {
        guard let context, let options = context.channel.syncOptions else { return }
        try? options.setOption(ChannelOptions.autoRead, value: reading)
        if reading { context.read() }
    }

    /// True while the client waits for the server whose ParameterStatus set completes its login.
    var needsServerParameters: Bool {
        if case .fetchingParameters = phase { return true }
        return false
    }

    /// The pool gave up on finding a server within query_wait_timeout (it already left the queue).
    func waitTimedOut(limit: String) {
        let timeout = Self.seconds(runtime.settings.queryWaitTimeout)
        let error = ErrorResponse(
            severity: .error, code: .queryCanceled, message: "canceling query due to query_wait_timeout",
            detail: "The client waited \(timeout) s for a server of pool \(pool.map { "\($0)" } ?? "?") and none "
                + "became free: \(limit).",
            hint: "Raise the pool size or query_wait_timeout, or find what holds the servers.")
        switch phase {
        case .fetchingParameters:
            fatal(.queryCanceled, "canceling login due to query_wait_timeout", detail: error.detail)
        case .ready:
            guard case .waiting = session.state else { return }
            session.acquireFailed()
            disarmWaitNotice()
            answerHeld(with: error)
        default:
            break
        }
    }
}
