#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import PostgresWire
import SpillwayCore
import SpillwayEngine

/// One application connection on the engine: owns its socket and decoder, runs the login and the
/// `ClientSession` machine, and forwards between the client and the server lent to it.
///
/// Loop-confined. It hears from the server it holds through `serverSent` (the sink of that server's frames) and
/// from its loop's shards through the `server…` methods below, each called from another event, never from
/// inside a call it made.
final class ClientDriver: ConnectionDelegate, ServerFrameSink {
    /// Where the client is in its life.
    enum Phase {
        /// Reading SSLRequest / CancelRequest / StartupMessage.
        case startup(StartupDecoder)
        /// Exchanging authentication messages. Boxed: the login's state is large, and an enum is as big as its
        /// largest case, which every idle client would carry.
        case authenticating(Authentication)
        /// Authenticated; waiting for a first server of the pool to learn the ParameterStatus set.
        case fetchingParameters
        /// Logged in: messages flow through the session.
        case ready
        /// Logged in to the admin console.
        case console(ConsoleLogin)
        /// The console runs a command whose answer comes later; further commands wait in the decoder.
        case consoleBusy(ConsoleLogin)
        case closed
    }

    let id: ClientID
    let loop: IOLoop
    let shards: LoopShards
    let connection: Connection
    let runtime: RuntimeConfig
    var phase = Phase.startup(StartupDecoder())
    var session = ClientSession(mode: .transaction)
    var decoder: FrameDecoder
    /// Messages kept while waiting for a server, and their size (bounded by pausing reads).
    var held = HeldMessages()
    /// The server lent to this client.
    var server: ServerDriver?
    /// Tracked parameters this client wants on any server it uses.
    var wantedParameters = TrackedParameters()
    var cancelKey: CancelRequest?
    /// The role the client logged in as (SHOW CLIENTS).
    var user: String?
    var pool: PoolKey?
    /// This loop's site of the client's pool, once logged in (kept, not looked up by key at every acquire).
    var site: PoolSite?
    var tag: ClientTag
    /// Counted against max_client_conn.
    var admitted = false
    /// Counted in the plane's admission (database, user and application counts) since its login.
    var countedAtLogin = false
    var loginTimer: TimerID?
    /// transaction_timeout: armed when ReadyForQuery says a transaction began, cancelled when it ends.
    var transactionTimer: TimerID?
    /// When the running request began, in loop nanoseconds (0: none runs), and when the client last settled.
    var requestAt: UInt64 = 0
    var readyAt: UInt64 = 0
    /// How promptly this client has released its servers: its standing among waiters.
    var record = ReleaseRecord()
    /// Only while a transaction is open: its start and last statement (see ClientDriver+Activity).
    var openTransaction: OpenTransaction?
    /// query_wait_notify: set once the notice went out for the current wait.
    var waitNoticeSent = false
    /// The lent server's FATAL ErrorResponse, held until that server's connection closes.
    var serverFatal: ErrorResponse?
    /// Why the connection ended, for the disconnect log line.
    var closeReason: String?
    /// The peer's host ("unix" on the socket) and port: kept as text and a number, a fraction of the size of
    /// the address.
    let peerHost: String
    let peerPort: UInt16
    let connectedAt: ContinuousClock.Instant

    static let loginMessageLimit = 65_536
    static let heldBytesLimit = 1 << 20

    init(id: ClientID, socket: SpillwayEngine.Socket, peer: NetworkAddress, loop: IOLoop, shards: LoopShards,
        runtime: RuntimeConfig) throws(SocketError)
    {
        self.id = id
        self.loop = loop
        self.shards = shards
        self.runtime = runtime
        self.peerHost = peer.family == .unix ? "unix" : peer.host
        self.peerPort = UInt16(truncatingIfNeeded: peer.port ?? 0)
        self.connectedAt = loop.now
        self.decoder = FrameDecoder(maxMessageSize: min(runtime.settings.maxPacketSize, Self.loginMessageLimit))
        self.tag = ClientTag(client: id, loop: loop.index, application: "")
        self.connection = try Connection(socket: socket, loop: loop)
        self.connection.delegate = self
    }

    /// The logger with this client's facts as metadata, made only when a line is written.
    var logger: Logger {
        var logger = shards.logger
        logger[metadataKey: "client"] = "\(id)"
        logger[metadataKey: "remote"] = "\(peerText)"
        if let user { logger[metadataKey: "user"] = "\(user)" }
        if let database = databaseName { logger[metadataKey: "db"] = "\(database)" }
        if !tag.application.isEmpty { logger[metadataKey: "app"] = "\(tag.application)" }
        return logger
    }

    /// The peer as logs show it (`10.0.3.7:51244`, `[::1]:51244`, `unix`), made when a line is written.
    var peerText: String {
        if peerHost == "unix" { return "unix" }
        return peerHost.contains(":") ? "[\(peerHost)]:\(peerPort)" : "\(peerHost):\(peerPort)"
    }

    /// The client's host without port ("unix" on the socket): its application when it names none.
    var remoteHost: String {
        peerHost
    }

    /// Starts the client_login_timeout clock; called once the driver is registered.
    func start(admitted: Bool) {
        self.admitted = admitted
        let timeout = runtime.settings.clientLoginTimeout
        guard timeout > 0 else { return }
        loginTimer = loop.schedule(at: loop.now + .milliseconds(Int64(timeout * 1000))) { [self] in
            self.loginTimer = nil
            switch self.phase {
            case .ready, .closed: break
            default:
                self.logger.info("client did not finish login in time", metadata: ["timeout_s": "\(timeout)"])
                self.fatal(.connectionFailure, "terminating connection due to client_login_timeout",
                    detail: "The client did not complete its login within \(timeout) s.")
            }
        }
    }

    // MARK: Socket events

    func received(_ bytes: ByteBuffer, on connection: Connection) {
        do throws(WireError) {
            switch phase {
            case .startup(var startup):
                startup.append(bytes)
                phase = .startup(startup)
                try readStartup()
            case .ready:
                site?.stats.totals.bytesReceived &+= UInt64(truncatingIfNeeded: bytes.readableBytes)
                decoder.append(bytes)
                try readFrames()
            case .authenticating, .fetchingParameters, .console, .consoleBusy:
                decoder.append(bytes)
                try readFrames()
            case .closed:
                return
            }
        } catch {
            logger.info("client sent a malformed message", metadata: ["error": "\(error)"])
            fatal(error.sqlState, String(describing: error))
        }
    }

    func closed(_ connection: Connection, error: SocketError?) {
        finish()
    }

    func drained(_ connection: Connection) {
        // The client can take more again: read its server again.
        server?.resumeReading()
    }

    /// The connection is over (the client left, or Spillway closed it): give back what it holds.
    private func finish() {
        let previous = phase
        phase = .closed
        if let timer = loginTimer {
            loop.cancel(timer)
            loginTimer = nil
        }
        disarmTransactionTimeout()
        switch previous {
        case .fetchingParameters:
            if let pool { shards.cancelWait(id, key: pool) }
        case .ready:
            releaseOnClose()
        default:
            break
        }
        held.removeAll()
        if countedAtLogin, let pool, let user {
            countedAtLogin = false
            shards.plane.admittedClientLeft(database: pool.database, user: user, application: tag.application)
        }
        shards.clientGone(self)
        if runtime.settings.logDisconnections, cancelKey != nil {
            logger.info("client closed", metadata: [
                "age_s": "\(SecondsText.of(loop.now - connectedAt))",
                "reason": "\(closeReason ?? "the client closed the connection")",
            ])
        }
    }

    func releaseOnClose() {
        switch session.clientClosed() {
        case .none:
            break
        case .cancelWait:
            if let pool { shards.cancelWait(id, key: pool) }
        case .release(_, let rollback, let reset):
            guard let server else { return }
            self.server = nil
            var statements: [String] = []
            if rollback { statements.append("ROLLBACK") }
            let resetQuery = runtime.settings.serverResetQuery
            if (reset || runtime.settings.serverResetQueryAlways) && !resetQuery.isEmpty { statements.append(resetQuery) }
            shards.release(server, statements: statements, reusable: true)
        case .closeServer:
            guard let server else { return }
            self.server = nil
            shards.release(server, statements: [], reusable: false)
        }
    }

    // MARK: Frames from the client

    func readFrames() throws(WireError) {
        while true {
            switch phase {
            case .authenticating(let authentication):
                guard let frame = try decoder.next() else { return }
                guard frame.type == .password,
                    let message = try FrontendMessage(frame: frame, passwordContext: authentication.login.expectedContext)
                else {
                    fatal(.protocolViolation, "expected a password message, got message type \(frame.type)")
                    return
                }
                let step = authentication.login.receive(message)
                advanceLogin(step, login: authentication.login, request: authentication.request)
            case .ready:
                try forwardClientFrames()
                return
            case .console(let login):
                guard let frame = try decoder.next() else { return }
                consoleFrame(frame, login: login)
            default:
                return  // startup is read elsewhere; while fetching parameters, bytes wait in the decoder
            }
        }
    }

    /// The forwarding path: frames to forward leave in one slice per read (headers read, bodies untouched);
    /// only frames to hold or act on are cut out one by one.
    private func forwardClientFrames() throws(WireError) {
        while case .ready = phase, let header = try decoder.peek() {
            guard header.type.isValidAfterLogin else {
                flushRunToServer()
                fatal(.protocolViolation, "unexpected message type \(header.type) after login")
                return
            }
            if case .linked = session.state, header.type != .terminate {
                _ = session.clientMessage(header.type, now: loop.now)
                requestStarted()
                if openTransaction != nil, header.type == .query || header.type == .parse,
                    let body = decoder.peekBody(header, upTo: Self.statementBytesKept)
                {
                    noteStatement(header.type, body: body)
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
        server?.write(run)
        if server?.isWritable == false { connection.pauseReading() }
    }

    func clientFrame(_ frame: Frame) {
        if frame.type != .terminate {
            requestStarted()
            if frame.type == .query || frame.type == .parse { noteStatement(frame.type, body: frame.body) }
        }
        switch session.clientMessage(frame.type, now: loop.now) {
        case .forward:
            server?.write(frame.bytes)
        case .holdAndAcquire:
            hold(frame)
            if let pool { acquire(pool) }
        case .hold:
            hold(frame)
        case .terminate:
            closeReason = "the client sent Terminate"
            releaseOnClose()
            phase = .closed
            connection.close()
            finish()
        }
    }

    private func hold(_ frame: Frame) {
        // Copied out of the read buffer: it may wait a while, and the loop's buffer is for the next read.
        held.append(frame)
        // Held messages live in Spillway's memory: past a bound, let them wait in the socket instead.
        if held.byteCount > Self.heldBytesLimit { connection.pauseReading() }
    }

    // MARK: Getting a server

    /// Asks this loop's shard of the pool for a server.
    func acquire(_ key: PoolKey) {
        waitNoticeSent = false
        tag.standing = record.standing
        tag.opensTransaction = held.first.map { frame in
            guard frame.type == .query else { return false }
            return frame.body.withUnsafeReadableBytes { bytes in
                TransactionStart.opens(UnsafeRawBufferPointer(rebasing: bytes.prefix(256)).bindMemory(to: UInt8.self))
            }
        } ?? false
        shards.acquire(for: self, key: key)
    }

    /// The shard lent `server` to this client (from a shard event or the outcome of `acquire`).
    func serverAttached(_ server: ServerDriver, synced: TrackedParameters?) {
        if let synced {
            for (key, _) in TrackedParameters.names {
                if let value = synced[key], wantedParameters[key] != nil { _ = wantedParameters.set(key, value) }
            }
        }
        switch phase {
        case .fetchingParameters:
            let reported = server.session.reported
            shards.release(server, statements: [], reusable: true)
            finishLogin(serverParameters: reported)
        case .ready:
            guard case .waiting = session.state else {
                shards.release(server, statements: [], reusable: true)
                return
            }
            if case .waiting(let since) = session.state, let site {
                site.stats.totals.assignments &+= 1
                let waited = loop.nanos &- IOLoop.nanos(of: since)
                site.stats.totals.waitMicros &+= waited / 1_000
                site.waitTimer?.recordNanoseconds(Int64(clamping: waited))
            }
            session.serverAssigned(server.id)
            self.server = server
            let wasOverLimit = held.byteCount > Self.heldBytesLimit
            writeHeld(to: server)
            if wasOverLimit { connection.resumeReading() }
        default:
            shards.release(server, statements: [], reusable: true)
        }
    }

    /// Writes the held messages to the newly lent server in one write.
    private func writeHeld(to server: ServerDriver) {
        held.forEach { session.heldMessageForwarded($0.type) }
        if let bytes = held.take() { server.write(bytes) }
    }

    /// No server could be had for this client.
    func acquireFailed(_ failure: ServerFailure) {
        let code = failure.serverError?.code ?? .connectionFailure
        let message = failure.serverError?.message ?? failure.message
        if runtime.settings.logPoolerErrors {
            logger.warning("no server for client", metadata: ["sqlstate": "\(code.rawValue)", "reason": "\(failure.message)"])
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

    /// The shard gave up on finding a server within query_wait_timeout (the client already left the queue).
    func waitTimedOut(limit: String) {
        let timeout = SecondsText.of(runtime.settings.queryWaitTimeout)
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
            answerHeld(with: error)
        default:
            break
        }
    }

    /// Answers held messages with one error and a ReadyForQuery for each that expected one.
    private func answerHeld(with error: ErrorResponse) {
        shards.plane.metrics?.errorSent(error.code?.rawValue ?? "XX000", origin: "spillway")
        var syncs = 0
        held.forEach { if $0.type.endsWithReadyForQuery { syncs += 1 } }
        let wasOverLimit = held.byteCount > Self.heldBytesLimit
        held.removeAll()
        if wasOverLimit { connection.resumeReading() }
        connection.write { buffer in
            error.encode(into: &buffer)
            for _ in 0..<syncs { BackendMessage.readyForQuery(.idle).encode(into: &buffer) }
        }
    }

    // MARK: Errors and closing

    /// FATAL `code` and close (after the error is written).
    func fatal(_ code: SQLState, _ message: String, detail: String? = nil, hint: String? = nil) {
        guard !isClosed else { return }
        if case .ready = phase { releaseOnClose() }
        closeReason = "\(code.rawValue) \(message)"
        shards.plane.metrics?.errorSent(code.rawValue, origin: "spillway")
        connection.write { ErrorResponse(severity: .fatal, code: code, message: message, detail: detail, hint: hint).encode(into: &$0) }
        phase = .closed
        connection.close()
        finish()
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }
}

/// What a client asked for in its startup packet.
struct LoginRequest {
    var user: String
    var database: String
}

/// A login in progress: the authentication exchange and what the client asked for.
final class Authentication {
    var login: ClientLogin
    let request: LoginRequest

    init(login: ClientLogin, request: LoginRequest) {
        self.login = login
        self.request = request
    }
}
