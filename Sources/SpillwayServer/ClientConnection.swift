#if canImport(Glibc)
import Glibc
#endif
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
    private unowned(unsafe) let executor: PoolExecutor
    private let baseLogger: Logger
    /// Who the client is, for log lines; kept as plain fields and turned into metadata only when a line is
    /// written, so an idle client carries no metadata dictionary.
    private var remoteForLog = "unix"
    private var userForLog: String?
    private var databaseForLog: String?

    /// The logger with this client's facts as metadata.
    private var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "client"] = "\(id)"
        logger[metadataKey: "remote"] = "\(remoteForLog)"
        if let userForLog { logger[metadataKey: "user"] = "\(userForLog)" }
        if let databaseForLog { logger[metadataKey: "db"] = "\(databaseForLog)" }
        if !tag.application.isEmpty { logger[metadataKey: "app"] = "\(tag.application)" }
        return logger
    }
    private let runtime: RuntimeConfig

    private var context: ChannelHandlerContext?
    private var phase = ClientPhase.startup(StartupDecoder())
    private var session = ClientSession(mode: .transaction)
    private var decoder: FrameDecoder
    /// Messages kept while waiting for a server.
    private var held: [Frame] = []
    private(set) var linkedServer: ServerConnection?
    /// Tracked parameters this client wants on any server it uses.
    private(set) var wantedParameters = TrackedParameters()
    private var cancelKey: CancelRequest?
    private var pool: PoolKey?
    private var tag: ClientTag
    private var admitted = false
    private var wroteToServer = false
    /// Bytes of `held`: bounded by pausing reads.
    private var heldBytes = 0
    private var loginTimer: Scheduled<Void>?
    private let connectedAt = ContinuousClock.now
    private let connectedAtWall = time(nil)
    /// Wall-clock time the client last started a transaction (SHOW CLIENTS request_time).
    private var requestAtWall = time(nil)
    private var remote = "unknown"
    /// The linked server's FATAL ErrorResponse, held until the server's connection closes.
    private var serverFatal: ErrorResponse?

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
            case .authenticating, .fetchingParameters, .ready, .console, .consoleBusy:
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
            let age = ContinuousClock.now - connectedAt
            logger.info("client closed", metadata: ["age_s": "\(age.components.seconds)"])
        }
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func releaseOnClose() {
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
            executor.release(server, from: self, statements: statements)
        case .closeServer:
            guard let server = linkedServer else { return }
            linkedServer = nil
            executor.release(server, from: self, statements: [], reusable: false)
        }
    }

    // MARK: Startup

    private func readStartup() throws(WireError) {
        while case .startup(var startup) = phase, let packet = try startup.next() {
            phase = .startup(startup)
            switch packet {
            case .sslRequest, .gssEncRequest:
                // No TLS yet: 'N' tells the client to go on in plain text.
                var buffer = context!.channel.allocator.buffer(capacity: 1)
                buffer.writeInteger(UInt8(ascii: "N"))
                context!.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            case .cancel(let request):
                executor.cancel(request)
                phase = .closed
                context!.close(promise: nil)
                return
            case .startup(let message):
                let rest = startup.drain()
                begin(message)
                if let rest { decoder.append(rest) }
                try readFrames()
                return
            }
        }
    }

    private func begin(_ message: StartupMessage) {
        let requestedDatabase = message.database.flatMap { $0.isEmpty ? nil : $0 } ?? message.user ?? ""
        // The admin console never waits behind application traffic: it is not counted against max_client_conn.
        let isConsole = AdminConsole.databaseNames.contains(requestedDatabase)
        guard admitted || isConsole else {
            fatal(.tooManyConnections, "no more connections allowed (max_client_conn)",
                  detail: "Spillway already serves max_client_conn = \(runtime.settings.maxClientConn) clients.")
            return
        }
        guard let user = message.user, !user.isEmpty else {
            fatal(.invalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet")
            return
        }
        let database = message.database.flatMap { $0.isEmpty ? nil : $0 } ?? user
        let ignored = Set(runtime.settings.ignoreStartupParameters.map { $0.lowercased() })
        for (name, value) in message.parameters {
            let lower = name.lowercased()
            if lower == "user" || lower == "database" || ignored.contains(lower) { continue }
            if wantedParameters.set(name, value) { continue }
            if lower == "options" && value.isEmpty { continue }
            fatal(.protocolViolation, "unsupported startup parameter: \(name)",
                  hint: "Add \(name) to ignore_startup_parameters to let such clients connect.")
            return
        }
        tag.application = wantedParameters["application_name"].flatMap { $0.isEmpty ? nil : $0 } ?? remote
        userForLog = user
        databaseForLog = database
        let request = LoginRequest(user: user, database: database)
        var stored = runtime.storedPassword(user: user)
        if stored == nil, runtime.settings.authType == .trust, runtime.settings.authFile == nil {
            stored = .plain("")  // trust without auth_file: any role may log in, as PostgreSQL's trust
        }
        var login = ClientLogin(authType: runtime.settings.authType, user: user, stored: stored,
                                randomBytes: secureRandomBytes(18))
        if runtime.settings.authType == .trust && stored == nil {
            fatal(.invalidPassword, "password authentication failed for user \"\(user)\"")
            return
        }
        advanceLogin(login.start(), login: login, request: request)
    }

    // MARK: Authentication

    private func advanceLogin(_ step: ClientLogin.Step, login: ClientLogin, request: LoginRequest) {
        switch step {
        case .send(let authRequest):
            phase = .authenticating(login, request)
            var buffer = context!.channel.allocator.buffer(capacity: 64)
            BackendMessage.authentication(authRequest).encode(into: &buffer)
            context!.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .succeeded(let saslFinal, let clientKey):
            var buffer = context!.channel.allocator.buffer(capacity: 64)
            if let saslFinal { BackendMessage.authentication(.saslFinal(data: saslFinal)).encode(into: &buffer) }
            BackendMessage.authentication(.ok).encode(into: &buffer)
            context!.write(wrapOutboundOut(buffer), promise: nil)
            authenticated(request, clientKey: clientKey)
        case .failed(let reason):
            logger.info("client login failed", metadata: ["reason": "\(reason)"])
            fatal(.invalidPassword, "password authentication failed for user \"\(request.user)\"")
        }
    }

    private func authenticated(_ request: LoginRequest, clientKey: [UInt8]?) {
        if AdminConsole.databaseNames.contains(request.database) {
            startConsole(request)
            return
        }
        let config = runtime.config
        guard let database = config.database(named: request.database) else {
            fatal(.invalidCatalogName, "no such database: \"\(request.database)\"",
                  hint: "Spillway serves the databases listed in [databases] of its configuration.")
            return
        }
        if executor.isDisabled(database: request.database) {
            fatal(.cannotConnectNow, "database \"\(request.database)\" does not allow connections",
                  detail: "An administrator ran DISABLE \(request.database); ENABLE lets clients in again.")
            return
        }
        let serverUser = database.user ?? request.user
        let credentials = serverCredentials(database: database, serverUser: serverUser, clientUser: request.user,
                                            clientKey: clientKey)
        let key = PoolKey(database: request.database, user: serverUser)
        let settings = runtime.settings
        let mode = config.poolMode(database: database, user: request.user)
        session = ClientSession(mode: mode)
        pool = key
        let limits = runtime.limits(database: database, user: request.user)
        let target = ServerTarget(database: database, user: serverUser)
        let parameters = executor.preparePool(key, mode: mode, target: target, credentials: credentials, limits: limits)
        cancelKey = executor.register(self, pool: key)
        if let parameters {
            finishLogin(serverParameters: parameters)
        } else {
            phase = .fetchingParameters
            setReading(false)  // nothing is expected from the client until its login completes
            waitForServer(key)
        }
    }

    private func serverCredentials(
        database: DatabaseConfig, serverUser: String, clientUser: String, clientKey: [UInt8]?
    ) -> ServerCredentials {
        if let password = database.password { return .password(password) }
        switch runtime.storedPassword(user: serverUser) {
        case .plain(let password): return .password(password)
        case .md5(let hash): return .md5Hash(hash)
        case .scram(let secret):
            if serverUser == clientUser, let clientKey { return .scramKeys(clientKey: clientKey, serverKey: secret.serverKey) }
            return .none
        case nil: return .none
        }
    }

    private func finishLogin(serverParameters: [(name: String, value: String)]) {
        guard let context, let cancelKey else { return }
        var buffer = context.channel.allocator.buffer(capacity: 512)
        for (name, value) in serverParameters {
            // A setting the client did not choose takes the pool's default, so that whatever another client
            // set on a shared server is undone before this client's statements run.
            if wantedParameters[name] == nil { wantedParameters.set(name, value) }
            let shown = wantedParameters[name] ?? value
            BackendMessage.parameterStatus(name: name, value: shown).encode(into: &buffer)
        }
        BackendMessage.backendKeyData(cancelKey).encode(into: &buffer)
        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        phase = .ready
        loginTimer?.cancel()
        // Logged in: messages may now be as large as max_packet_size.
        let rest = decoder.drain()
        decoder = FrameDecoder(maxMessageSize: runtime.settings.maxPacketSize)
        if let rest { decoder.append(rest) }
        if runtime.settings.logConnections {
            logger.info("client logged in", metadata: ["mode": "\(session.mode.rawValue)"])
        }
        do {
            try readFrames()
        } catch {
            fatal(error.sqlState, String(describing: error))
        }
    }

    // MARK: Admin console

    private func startConsole(_ request: LoginRequest) {
        let settings = runtime.settings
        let isAdmin = settings.adminUsers.contains(request.user)
        guard isAdmin || settings.statsUsers.contains(request.user) else {
            logger.info("refused admin console login", metadata: ["reason": "not in admin_users or stats_users"])
            fatal(.invalidAuthorizationSpecification, "not allowed",
                  hint: "Only users listed in admin_users or stats_users may use the console.")
            return
        }
        guard let context else { return }
        if admitted {
            // Counted at accept like any client; the console does not take an application's slot.
            admitted = false
            executor.clientConnectionClosed()
        }
        cancelKey = executor.register(self, pool: nil)
        var buffer = context.channel.allocator.buffer(capacity: 256)
        let parameters: [(String, String)] = [
            ("server_version", "15.0 (spillway \(SpillwayVersion.current))"), ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"), ("DateStyle", "ISO, MDY"), ("TimeZone", "UTC"),
            ("standard_conforming_strings", "on"), ("integer_datetimes", "on"), ("is_superuser", "off"),
            ("application_name", wantedParameters["application_name"] ?? ""),
        ]
        for (name, value) in parameters { BackendMessage.parameterStatus(name: name, value: value).encode(into: &buffer) }
        BackendMessage.backendKeyData(cancelKey!).encode(into: &buffer)
        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        phase = .console(isAdmin: isAdmin)
        loginTimer?.cancel()
        logger.info("admin console login", metadata: ["admin": "\(isAdmin)"])
    }

    private func consoleFrame(_ frame: Frame, isAdmin: Bool) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 512)
        switch frame.type {
        case FrontendType.terminate:
            phase = .closed
            context.close(promise: nil)
            return
        case FrontendType.query:
            guard case .query(let text)? = try? FrontendMessage(frame: frame) else {
                fatal(.protocolViolation, "malformed Query message")
                return
            }
            if text.allSatisfy({ $0.isWhitespace || $0 == ";" }) {
                buffer.writeInteger(UInt8(ascii: "I"))  // EmptyQueryResponse
                buffer.writeInteger(Int32(4))
            } else {
                let console = AdminConsole(executor: executor, runtime: runtime, loop: loop)
                switch console.run(text, isAdmin: isAdmin) {
                case .done(let result): result.encode(into: &buffer)
                case .failed(let error): error.encode(into: &buffer)
                case .afterQuiescence(let database, let result):
                    phase = .consoleBusy(isAdmin: isAdmin)
                    awaitQuiescence(database: database, then: result, isAdmin: isAdmin)
                    return
                case .later(let future):
                    phase = .consoleBusy(isAdmin: isAdmin)
                    future.whenComplete { [self] outcome in
                        guard case .consoleBusy = phase, let context = self.context else { return }
                        var buffer = context.channel.allocator.buffer(capacity: 1024)
                        switch outcome {
                        case .success(let result): result.encode(into: &buffer)
                        case .failure(let error):
                            ErrorResponse(severity: .error, code: .internalError, message: "\(error)").encode(into: &buffer)
                        }
                        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
                        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
                        phase = .console(isAdmin: isAdmin)
                        do throws(WireError) { try readFrames() } catch { fatal(error.sqlState, String(describing: error)) }
                    }
                    return
                }
            }
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        case FrontendType.sync:
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        default:
            ErrorResponse(severity: .error, code: .featureNotSupported,
                          message: "the admin console speaks the simple query protocol only").encode(into: &buffer)
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// PAUSE: polls until no server of the database is lent out, closes the servers, then answers.
    private func awaitQuiescence(database: String?, then result: ResultSet, isAdmin: Bool) {
        guard case .consoleBusy = phase else { return }
        guard executor.isQuiescent(database: database) else {
            loop.scheduleTask(in: .milliseconds(20)) { [self] in
                awaitQuiescence(database: database, then: result, isAdmin: isAdmin)
            }
            return
        }
        executor.reconnect(database: database)  // PgBouncer's PAUSE leaves no server connection open
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        result.encode(into: &buffer)
        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        phase = .console(isAdmin: isAdmin)
        do {
            try readFrames()
        } catch {
            fatal(error.sqlState, String(describing: error))
        }
    }

    /// This client as a SHOW CLIENTS row (on the client's loop).
    func report(now: ContinuousClock.Instant) -> ConnectionReport {
        var state = "active"
        var wait = Duration.zero
        if case .waiting(let since) = session.state {
            state = "waiting"
            wait = now - since
        }
        if case .fetchingParameters = phase { state = "waiting" }
        return ConnectionReport(
            type: "C", user: userForLog, database: databaseForLog, state: state, address: context?.remoteAddress,
            localAddress: context?.localAddress, connectTime: connectedAtWall, requestTime: requestAtWall, wait: wait,
            pointer: ConnectionReport.pointer(self), link: linkedServer.map(ConnectionReport.pointer) ?? "",
            remotePID: 0, applicationName: wantedParameters["application_name"] ?? "")
    }

    /// KILL_CLIENT from the console: FATAL 57P01 and close, releasing what the client holds.
    func closeByAdministrator() {
        fatal(.adminShutdown, "terminating connection due to administrator command")
    }

    // MARK: Frames from the client

    private func readFrames() throws(WireError) {
        while true {
            switch phase {
            case .authenticating(var login, let request):
                guard let frame = try decoder.next() else { return }
                guard frame.type == UInt8(ascii: "p"),
                      let message = try FrontendMessage(frame: frame, passwordContext: login.expectedContext)
                else {
                    fatal(.protocolViolation, "expected a password message, got message type '\(Character(Unicode.Scalar(frame.type)))'")
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
            if case .linked = session.state, header.type != FrontendType.terminate {
                _ = session.clientMessage(header.type, now: ContinuousClock.now)
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
    private func clientFrame(_ frame: Frame) {
        switch session.clientMessage(frame.type, now: ContinuousClock.now) {
        case .forward:
            linkedServer!.write(frame.bytes)
            wroteToServer = true
        case .holdAndAcquire:
            requestAtWall = time(nil)
            held.append(frame)
            heldBytes += frame.bytes.readableBytes
            if let pool { waitForServer(pool) }
        case .hold:
            held.append(frame)
            heldBytes += frame.bytes.readableBytes
            // Held messages live in Spillway's memory: past a bound, let them wait in the socket instead.
            if heldBytes > Self.heldBytesLimit { setReading(false) }
        case .terminate:
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
        // One ReadyForQuery for each held message that expected one; an unsynced batch gets the error alone
        // and its coming Sync is answered by whichever server serves it.
        let syncs = held.reduce(0) { $0 + (FrontendType.endsWithReadyForQuery($1.type) ? 1 : 0) }
        held.removeAll(keepingCapacity: true)
        var buffer = context.channel.allocator.buffer(capacity: 128)
        error.encode(into: &buffer)
        for _ in 0..<syncs { BackendMessage.readyForQuery(.idle).encode(into: &buffer) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Asks the pool for a server.
    private func waitForServer(_ key: PoolKey) {
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
    func waitTimedOut() {
        let timeout = runtime.settings.queryWaitTimeout
        let error = ErrorResponse(
            severity: .error, code: .queryCanceled, message: "canceling query due to query_wait_timeout",
            detail: "The client waited \(timeout) s for a server of pool \(pool.map { "\($0)" } ?? "?") and none became free.",
            hint: "Raise the pool size or query_wait_timeout, or find what holds the servers.")
        switch phase {
        case .fetchingParameters:
            fatal(.queryCanceled, "canceling login due to query_wait_timeout", detail: error.detail)
        case .ready:
            guard case .waiting = session.state else { return }
            session.acquireFailed()
            answerHeld(with: error)
        default:
            break
        }
    }

    // MARK: Frames from the server

    /// Same-loop fast path: forwards what the linked server's decoder holds, in slices, until it runs out or the
    /// server is released. Returns with the decoder positioned after the last frame handled.
    func forwardServerFrames(_ serverDecoder: inout FrameDecoder, from server: ServerConnection) throws(WireError) {
        guard let context else { return }
        while linkedServer === server, let header = try serverDecoder.peek() {
            switch header.type {
            case BackendType.readyForQuery:
                guard let status = header.readyForQueryStatus else {
                    serverDecoder.extendRun(header)
                    continue
                }
                switch session.readyForQuery(status) {
                case .forward:
                    serverDecoder.extendRun(header)
                case .forwardAndRelease:
                    serverDecoder.extendRun(header)
                    if let run = serverDecoder.takeRun() { context.writeAndFlush(wrapOutboundOut(run), promise: nil) }
                    linkedServer = nil
                    let settings = runtime.settings
                    let reset = settings.serverResetQueryAlways && !settings.serverResetQuery.isEmpty
                    executor.release(server, from: self, statements: reset ? [settings.serverResetQuery] : [])
                    return
                case .rejectTransaction:
                    if let run = serverDecoder.takeRun() { context.write(wrapOutboundOut(run), promise: nil) }
                    _ = try serverDecoder.next()  // the 'Z' is not forwarded
                    rejectTransaction()
                    return
                }
            case BackendType.errorResponse, BackendType.parameterStatus, BackendType.copyInResponse,
                BackendType.copyBothResponse:
                if let run = serverDecoder.takeRun() { context.write(wrapOutboundOut(run), promise: nil) }
                guard let frame = try serverDecoder.next() else { return }
                if header.type == BackendType.parameterStatus { server.noteParameterStatus(frame) }
                receiveFromServer(frame)
            default:
                serverDecoder.extendRun(header)
            }
        }
        if let run = serverDecoder.takeRun() { context.write(wrapOutboundOut(run), promise: nil) }
    }

    /// A frame from the linked server (on the client's loop).
    @inline(__always)
    func receiveFromServer(_ frame: Frame) {
        guard let context else { return }
        switch frame.type {
        case BackendType.readyForQuery:
            guard let status = frame.readyForQueryStatus else {
                context.write(wrapOutboundOut(frame.bytes), promise: nil)
                return
            }
            switch session.readyForQuery(status) {
            case .forward:
                context.write(wrapOutboundOut(frame.bytes), promise: nil)
            case .forwardAndRelease:
                context.writeAndFlush(wrapOutboundOut(frame.bytes), promise: nil)
                guard let server = linkedServer else { return }
                linkedServer = nil
                let settings = runtime.settings
                let reset = settings.serverResetQueryAlways && !settings.serverResetQuery.isEmpty
                executor.release(server, from: self, statements: reset ? [settings.serverResetQuery] : [])
            case .rejectTransaction:
                rejectTransaction()
            }
        case BackendType.copyInResponse, BackendType.copyBothResponse:
            session.copyInStarted()
            context.write(wrapOutboundOut(frame.bytes), promise: nil)
        case BackendType.errorResponse:
            session.serverError()
            // A FATAL from the server ends the server connection, not the client's: keep it for serverLost,
            // which tells the client in a form that lets it go on where it can.
            if let error = try? ErrorResponse(body: frame.body), error.severity == "FATAL" || error.severity == "PANIC" {
                serverFatal = error
                return
            }
            context.write(wrapOutboundOut(frame.bytes), promise: nil)
        case BackendType.parameterStatus:
            // The client's own statement changed a setting: it follows the client to its next server.
            if case .parameterStatus(let name, let value)? = try? BackendMessage(frame: frame) {
                wantedParameters.set(name, value)
            }
            context.write(wrapOutboundOut(frame.bytes), promise: nil)
        default:
            context.write(wrapOutboundOut(frame.bytes), promise: nil)
        }
    }

    /// The end of a read batch from the server: flush what was forwarded.
    func serverReadComplete() {
        context?.flush()
    }

    /// Statement mode: the client opened a transaction. Roll it back, tell the client, release the server.
    /// The server is the rollback's from here on: a client closing meanwhile releases nothing.
    private func rejectTransaction() {
        guard let server = linkedServer else { return }
        linkedServer = nil
        server.onLoop {
            server.detach(from: self)
            server.runInternal(["ROLLBACK"]) { result in
                let clean: Bool
                if case .success(.idle) = result { clean = true } else { clean = false }
                self.executor.release(server, from: nil, statements: [], reusable: clean)
                self.onLoop { self.transactionRejected() }
            }
        }
    }

    private func transactionRejected() {
        session.transactionRejected()
        guard case .ready = phase, let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        ErrorResponse(
            severity: .error, code: .featureNotSupported,
            message: "transaction blocks are not allowed in pool_mode statement",
            detail: "Spillway rolled the transaction back.",
            hint: "Use pool_mode = transaction for this database or user, or send statements one at a time."
        ).encode(into: &buffer)
        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        // Messages the client sent meanwhile were held; they start a new transaction.
        let pending = held
        held.removeAll()
        for frame in pending { clientFrame(frame) }
    }

    /// The linked server's connection died.
    func serverLost(_ serverID: ServerID) {
        guard let server = linkedServer, server.id == serverID else { return }
        linkedServer = nil
        let reason = serverFatal
        serverFatal = nil
        let code = reason?.code ?? .connectionFailure
        let message = reason?.message ?? "server connection was lost"
        switch session.serverLost() {
        case .none:
            break
        case .answerError(let count):
            guard let context else { return }
            var buffer = context.channel.allocator.buffer(capacity: 128)
            ErrorResponse(severity: .error, code: code, message: message,
                          detail: "The PostgreSQL connection serving this statement closed; Spillway keeps the client connected.")
                .encode(into: &buffer)
            for _ in 0..<count { BackendMessage.readyForQuery(.idle).encode(into: &buffer) }
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .closeClient:
            fatal(code, message, detail: "The PostgreSQL connection holding this session or transaction closed.")
        }
    }

    // MARK: Errors

    /// Sends a FATAL ErrorResponse and closes the connection.
    private func fatal(_ code: SQLState, _ message: String, detail: String? = nil, hint: String? = nil) {
        guard let context else { return }
        if case .ready = phase { releaseOnClose() }
        phase = .closed
        var buffer = context.channel.allocator.buffer(capacity: 128)
        ErrorResponse(severity: .fatal, code: code, message: message, detail: detail, hint: hint).encode(into: &buffer)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension ServerTarget {
    /// Where a database entry's servers are: a host starting with "/" is a Unix socket folder.
    init(database: DatabaseConfig, user: String) {
        let host = database.serverHost
        let address: Address = host.hasPrefix("/")
            ? .unix(path: "\(host)/.s.PGSQL.\(database.port)")
            : .tcp(host: host, port: database.port)
        var parameters: [(name: String, value: String)] = [("user", user), ("database", database.serverDatabaseName)]
        if let value = database.clientEncoding { parameters.append(("client_encoding", value)) }
        if let value = database.datestyle { parameters.append(("DateStyle", value)) }
        if let value = database.timezone { parameters.append(("TimeZone", value)) }
        if let value = database.applicationName { parameters.append(("application_name", value)) }
        self.init(address: address, user: user, database: database.serverDatabaseName, startupParameters: parameters)
    }
}
