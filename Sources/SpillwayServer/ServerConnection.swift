#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import PostgresWire
import SpillwayCore

/// Where a server connection is (lives on its event loop).
enum ServerPhase {
    /// TCP/Unix connect in progress.
    case connecting
    /// Startup sent; answering authentication, collecting ParameterStatus and BackendKeyData.
    case login(ServerLogin)
    /// In the pool, nobody attached.
    case idle
    /// Running statements of Spillway's own (reset, check, SET); their replies are consumed here.
    case internalQuery(InternalQuery)
    /// Forwarding to and from `client`.
    case forwarding(ClientConnection)
    case closed
}

/// One connection from Spillway to PostgreSQL, and the channel handler that reads it.
///
/// Every mutable property is touched only on `loop`; other threads reach it through `loop.execute`.
final class ServerConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let id: ServerID
    let key: PoolKey
    let loop: EventLoop
    let loopIndex: Int
    let target: ServerTarget
    private unowned(unsafe) let executor: PoolExecutor
    private let logger: Logger

    private(set) var channel: Channel?
    /// The handler's context: writes on the server's own loop go through it, skipping the pipeline's tail.
    private var context: ChannelHandlerContext?
    /// True while reads are paused because the linked client cannot take more.
    private var readingPaused = false
    private var decoder: FrameDecoder
    private(set) var phase = ServerPhase.connecting
    private let connectedAtWall = time(nil)
    /// Wall-clock time the server was last lent (SHOW SERVERS request_time).
    private var requestAtWall = time(nil)
    /// Everything the server reported with ParameterStatus, in arrival order of first report.
    private(set) var reported: [(name: String, value: String)] = []
    /// The tracked subset, compared with each client's before it is attached.
    private(set) var tracked = TrackedParameters()
    /// The server's BackendKeyData: what a CancelRequest for this connection must carry.
    private(set) var backendKey: CancelRequest?
    /// Frames for a client on another loop, carried over at the end of the read batch.
    private var crossLoopBatch: [Frame] = []
    private var onLoggedIn: ((Result<Void, ServerFailure>) -> Void)?
    private var loginTimer: Scheduled<Void>?

    init(id: ServerID, key: PoolKey, loop: EventLoop, loopIndex: Int, target: ServerTarget,
         executor: PoolExecutor, maxPacketSize: Int, logger: Logger) {
        self.id = id
        self.key = key
        self.loop = loop
        self.loopIndex = loopIndex
        self.target = target
        self.executor = executor
        self.decoder = FrameDecoder(maxMessageSize: maxPacketSize)
        var logger = logger
        logger[metadataKey: "server"] = "\(id)"
        logger[metadataKey: "db"] = "\(key.database)"
        logger[metadataKey: "user"] = "\(key.user)"
        self.logger = logger
    }

    // MARK: Connect and log in

    /// Opens the connection and logs in; `done` runs on `loop`.
    func connect(
        credentials: ServerCredentials, connectTimeout: TimeAmount,
        done: @escaping (Result<Void, ServerFailure>) -> Void
    ) {
        loop.assertInEventLoop()
        onLoggedIn = done
        // server_connect_timeout covers connecting and logging in: a server that accepts TCP and never
        // answers the startup must not hold a pool slot forever.
        loginTimer = loop.scheduleTask(in: connectTimeout) { [self] in
            finishLogin(.failure(ServerFailure(
                message: "server \(target.address) did not complete login within server_connect_timeout")))
        }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            // TCP_NODELAY is set by ClientBootstrap (at IPPROTO_TCP); keepalive and the rest by TCPOptions.
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(self) }
            }
        let future: EventLoopFuture<Channel>
        switch target.address {
        case .tcp(let host, let port): future = bootstrap.connect(host: host, port: port)
        case .unix(let path): future = bootstrap.connect(unixDomainSocketPath: path)
        }
        future.whenComplete { result in
            switch result {
            case .success(let channel):
                guard self.onLoggedIn != nil else {
                    channel.close(promise: nil)  // login already timed out
                    return
                }
                self.channel = channel
                TCPOptions.apply(to: channel, settings: self.executor.config.settings, logger: self.logger)
                self.phase = .login(ServerLogin(
                    user: self.target.user, credentials: credentials, randomBytes: SecureRandom.bytes(18)))
                var buffer = channel.allocator.buffer(capacity: 128)
                StartupMessage(parameters: self.target.startupParameters).encode(into: &buffer)
                channel.writeAndFlush(buffer, promise: nil)
            case .failure(let error):
                self.finishLogin(.failure(ServerFailure(
                    message: "could not connect to server \(self.target.address): \(error)")))
            }
        }
    }

    private func finishLogin(_ result: Result<Void, ServerFailure>) {
        guard let done = onLoggedIn else { return }
        onLoggedIn = nil
        loginTimer?.cancel()
        loginTimer = nil
        if case .failure = result {
            // Report first: closing runs channelInactive at once, which must find the pool already told.
            phase = .closed
            done(result)
            channel?.close(promise: nil)
        } else {
            phase = .idle
            done(result)
        }
    }

    // MARK: Client attachment

    /// Attaches `client`: first sets the client's tracked parameters where they differ, then forwards.
    /// `attached` runs on the server's loop with the outcome. `wantsReported`: include the server's full
    /// ParameterStatus set (for a client finishing its login).
    func attach(_ client: ClientConnection, wanted: TrackedParameters, wantsReported: Bool,
                attached: @escaping (Result<AttachInfo, ServerFailure>) -> Void) {
        loop.assertInEventLoop()
        guard case .idle = phase else {
            attached(.failure(ServerFailure(message: "server connection is not idle")))
            return
        }
        resumeReading()
        if let statement = wanted.setStatement(toMatch: tracked) {
            runInternal([statement]) { result in
                switch result {
                case .success:
                    self.phase = .forwarding(client)
                    // PostgreSQL may normalise what was set ("ISO" becomes "ISO, MDY"): the client adopts
                    // the server's spelling so the next comparison matches.
                    attached(.success(AttachInfo(reported: wantsReported ? self.reported : nil, synced: self.tracked)))
                case .failure(let failure):
                    attached(.failure(failure))
                }
            }
        } else {
            phase = .forwarding(client)
            requestAtWall = time(nil)
            attached(.success(AttachInfo(reported: wantsReported ? reported : nil, synced: nil)))
        }
    }

    /// Attaches `client` at once when nothing needs setting first: the common case, with no callback. Nil when
    /// the server is not idle or the client's parameters differ (`attach` handles both).
    func attachDirectly(_ client: ClientConnection, wanted: TrackedParameters, wantsReported: Bool) -> AttachInfo? {
        loop.assertInEventLoop()
        guard case .idle = phase, wanted.setStatement(toMatch: tracked) == nil else { return nil }
        resumeReading()
        phase = .forwarding(client)
        requestAtWall = time(nil)
        return AttachInfo(reported: wantsReported ? reported : nil, synced: nil)
    }

    /// `client` released the server (on the server's loop). A late detach from a previous holder is ignored.
    func detach(from client: ClientConnection) {
        loop.assertInEventLoop()
        if case .forwarding(let holder) = phase, holder === client {
            phase = .idle
            resumeReading()
        }
    }

    /// This server as a SHOW SERVERS row (on the server's loop).
    func report() -> ConnectionReport {
        let state: String
        var link = ""
        switch phase {
        case .connecting, .login: state = "new"
        case .idle: state = "idle"
        case .internalQuery: state = "tested"
        case .forwarding(let client):
            state = "active"
            link = ConnectionReport.pointer(client)
        case .closed: state = "closed"
        }
        let (address, port) = ConnectionReport.columns(channel?.remoteAddress)
        let (localAddress, localPort) = ConnectionReport.columns(channel?.localAddress)
        return ConnectionReport(
            type: "S", user: key.user, database: key.database, state: state, address: address, port: port,
            localAddress: localAddress, localPort: localPort, connectTime: connectedAtWall, requestTime: requestAtWall, wait: .zero,
            pointer: ConnectionReport.pointer(self), link: link, remotePID: backendKey?.processID ?? 0,
            applicationName: tracked["application_name"] ?? "")
    }

    /// True while the server forwards for `client` (on the server's loop).
    func isForwarding(for client: ClientConnection) -> Bool {
        if case .forwarding(let holder) = phase { return holder === client }
        return false
    }

    /// Stops or resumes reading from PostgreSQL while the client cannot take more (any loop).
    func setReading(_ reading: Bool) {
        onLoop {
            guard case .forwarding = self.phase else { return }
            self.applyReading(reading)
        }
    }

    /// Reads again if a client had paused them (on the server's loop). Nothing to do in the common case, so
    /// attaching and detaching cost no channel option call.
    private func resumeReading() {
        if readingPaused { applyReading(true) }
    }

    private func applyReading(_ reading: Bool) {
        guard let channel, let options = channel.syncOptions else { return }
        readingPaused = !reading
        try? options.setOption(ChannelOptions.autoRead, value: reading)
    }

    // MARK: Writes from the client side (any loop: Channel is thread-safe)

    @inline(__always)
    func write(_ bytes: ByteBuffer) {
        if let context, loop.inEventLoop {
            context.write(wrapOutboundOut(bytes), promise: nil)
        } else {
            channel?.write(bytes, promise: nil)
        }
    }

    func flush() {
        if let context, loop.inEventLoop {
            context.flush()
        } else {
            channel?.flush()
        }
    }

    func close() {
        if loop.inEventLoop {
            phase = .closed
            channel?.close(promise: nil)
        } else {
            loop.execute { self.close() }
        }
    }

    // MARK: Internal statements

    /// Runs each statement as a simple Query; `completion` gets the final transaction status.
    func runInternal(_ statements: [String], completion: @escaping (Result<TransactionStatus, ServerFailure>) -> Void) {
        loop.assertInEventLoop()
        guard let channel, !statements.isEmpty else {
            completion(.failure(ServerFailure(message: "server connection is closed")))
            return
        }
        if case .internalQuery = phase {
            // Never two at once: the replies of one would complete the other.
            completion(.failure(ServerFailure(message: "server is already running spillway's statements")))
            return
        }
        phase = .internalQuery(InternalQuery(
            remainingReadyForQuery: statements.count, error: nil, completion: completion))
        var buffer = channel.allocator.buffer(capacity: 64)
        for statement in statements { FrontendMessage.query(statement).encode(into: &buffer) }
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Runs one query of Spillway's own (reading the server's settings) and returns its rows as text.
    func runInternalQuery(_ sql: String, completion: @escaping (Result<[[String?]], ServerFailure>) -> Void) {
        loop.assertInEventLoop()
        guard let channel else {
            completion(.failure(ServerFailure(message: "server connection is closed")))
            return
        }
        if case .internalQuery = phase {
            completion(.failure(ServerFailure(message: "server is already running spillway's statements")))
            return
        }
        var query = InternalQuery(remainingReadyForQuery: 1, error: nil, completion: { _ in })
        query.rowsCompletion = completion
        phase = .internalQuery(query)
        var buffer = channel.allocator.buffer(capacity: 64)
        FrontendMessage.query(sql).encode(into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(unwrapInboundIn(data))
        do {
            // Fast path: a client on this loop takes the bytes straight from the decoder, in slices.
            if case .forwarding(let client) = phase, client.loop === loop {
                try client.forwardServerFrames(&decoder, from: self)
            }
            while let frame = try decoder.next() {
                handle(frame, context: context)
            }
        } catch {
            logger.warning("server sent a malformed message", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard case .forwarding(let client) = phase else {
            if !crossLoopBatch.isEmpty { flushCrossLoop() }
            return
        }
        if client.loop === loop {
            client.serverReadComplete()
        } else {
            flushCrossLoop(to: client)
        }
    }

    private func flushCrossLoop(to client: ClientConnection? = nil) {
        let frames = crossLoopBatch
        crossLoopBatch = []
        guard let client else { return }
        client.loop.execute {
            for frame in frames { client.receiveFromServer(frame) }
            client.serverReadComplete()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = phase
        phase = .closed
        switch previous {
        case .connecting, .login:
            let message = "server closed the connection during login"
            finishLogin(.failure(ServerFailure(message: message)))
        case .internalQuery(let query):
            logger.warning("server connection lost while running spillway's statements", metadata: [
                "server": "\(id)", "pool": "\(key)",
            ])
            query.completion(.failure(ServerFailure(message: "server closed the connection", serverError: query.error)))
            executor.serverClosed(self)
        case .forwarding(let client):
            logger.warning("server connection lost while serving a client", metadata: [
                "server": "\(id)", "pool": "\(key)", "client": "\(client.id)",
            ])
            if !crossLoopBatch.isEmpty { flushCrossLoop(to: client) }
            client.onLoop { client.serverLost(self.id) }
            executor.serverClosed(self)
        case .idle:
            executor.serverClosed(self)
        case .closed:
            executor.serverClosed(self)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // PostgreSQL cannot take more: stop reading the client until it can.
        if case .forwarding(let client) = phase {
            let writable = context.channel.isWritable
            client.onLoop { client.setReading(writable) }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("server connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Frames

    @inline(__always)
    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch phase {
        case .forwarding(let client):
            if frame.type == .parameterStatus { noteParameterStatus(frame) }
            if client.loop === loop {
                client.receiveFromServer(frame)
            } else {
                crossLoopBatch.append(frame)
            }
        case .internalQuery(var query):
            switch frame.type {
            case .readyForQuery:
                query.remainingReadyForQuery -= 1
                if query.remainingReadyForQuery > 0 {
                    phase = .internalQuery(query)
                    return
                }
                phase = .idle
                if let rowsCompletion = query.rowsCompletion {
                    if let error = query.error {
                        rowsCompletion(.failure(ServerFailure(
                            message: "server rejected spillway's query: \(error.message ?? "")", serverError: error)))
                    } else {
                        rowsCompletion(.success(query.rows))
                    }
                    return
                }
                if let error = query.error {
                    query.completion(.failure(ServerFailure(
                        message: "server rejected spillway's statement: \(error.message ?? "")", serverError: error)))
                } else {
                    query.completion(.success(frame.readyForQueryStatus ?? .idle))
                }
            case .errorResponse:
                query.error = (try? ErrorResponse(body: frame.body)) ?? ErrorResponse(
                    severity: .error, code: .internalError, message: "unreadable error")
                phase = .internalQuery(query)
            case .parameterStatus:
                noteParameterStatus(frame)
            case .dataRow:
                var body = frame.body
                let count = body.readInteger(as: Int16.self) ?? 0
                query.rows.append((0..<max(count, 0)).map { _ in
                    let length = body.readInteger(as: Int32.self) ?? -1
                    return length < 0 ? nil : body.readString(length: Int(length))
                })
                phase = .internalQuery(query)
            default:
                break
            }
        case .login(var login):
            handleLogin(frame, login: &login, context: context)
        case .idle:
            switch frame.type {
            case .parameterStatus:
                noteParameterStatus(frame)
            case .errorResponse:
                // An idle server only speaks up to say it is going away (e.g. pg_terminate_backend).
                let error = try? ErrorResponse(body: frame.body)
                logger.info("idle server closed by PostgreSQL", metadata: ["sqlstate": "\(error?.code?.rawValue ?? "")"])
                context.close(promise: nil)
            default:
                break
            }
        case .connecting, .closed:
            break
        }
    }

    private func handleLogin(_ frame: Frame, login: inout ServerLogin, context: ChannelHandlerContext) {
        let message: BackendMessage?
        do {
            message = try BackendMessage(frame: frame)
        } catch {
            finishLogin(.failure(ServerFailure(message: "server sent a malformed message during login: \(error)")))
            return
        }
        switch message {
        case .authentication(let request):
            let step = login.receive(request)
            phase = .login(login)
            switch step {
            case .send(let reply):
                var buffer = context.channel.allocator.buffer(capacity: 128)
                reply.encode(into: &buffer)
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            case .wait, .authenticated:
                break
            case .failed(let reason):
                finishLogin(.failure(ServerFailure(message: reason)))
            }
        case .parameterStatus:
            noteParameterStatus(frame)
        case .backendKeyData(let key):
            backendKey = key
        case .readyForQuery:
            logger.debug("server logged in")
            finishLogin(.success(()))
        case .errorResponse(let error):
            finishLogin(.failure(ServerFailure(message: error.message ?? "server refused login", serverError: error)))
        default:
            break
        }
    }

    /// Records a ParameterStatus the server sent (on the server's loop).
    func noteParameterStatus(_ frame: Frame) {
        guard case .parameterStatus(let name, let value)? = try? BackendMessage(frame: frame) else { return }
        tracked.set(name, value)
        if let index = reported.firstIndex(where: { $0.name == name }) {
            reported[index].value = value
        } else {
            reported.append((name, value))
        }
    }
}

/// What a client learns when a server is attached to it.
struct AttachInfo {
    /// The server's whole ParameterStatus set, when asked for.
    var reported: [(name: String, value: String)]?
    /// The server's tracked values after Spillway set the client's on it, when it had to.
    var synced: TrackedParameters?
}
