#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import PostgresWire
import SpillwayCore
import SpillwayEngine

/// Who a server driver reports to: its loop's pool shard. Called only from the driver's own socket and timer
/// events, never from inside a call the owner made on the driver (those return their outcome instead).
protocol ServerDriverOwner: AnyObject {
    /// Login finished; the server is idle.
    func serverLoggedIn(_ server: ServerDriver)
    /// Login failed; the server is closed.
    func serverLoginFailed(_ server: ServerDriver, _ failure: ServerFailure)
    /// Parameters were set for `client`, and the server is lent to it now (`synced`: the server's values).
    func serverAttached(_ server: ServerDriver, to client: ClientID, synced: TrackedParameters)
    /// Setting `client`'s parameters failed; the server is idle.
    func serverSyncFailed(_ server: ServerDriver, client: ClientID, _ failure: ServerFailure)
    /// Spillway's statements finished; the server is idle (or, on failure, the owner decides).
    func serverFinished(
        _ server: ServerDriver, _ purpose: ServerSession.Purpose, _ result: Result<[[String?]], ServerFailure>)
    /// The server is gone: closed by PostgreSQL, lost, or closed by the driver after a protocol error.
    /// `client` held it or was being synced onto it.
    func serverClosed(_ server: ServerDriver, client: ClientID?, reason: String)
}

/// Where a lent server's frames go: the client driver holding it.
protocol ServerFrameSink: AnyObject {
    /// Frames arrived from the server: take them from `decoder` (forward runs, act on ReadyForQuery, ...).
    func serverSent(_ decoder: inout FrameDecoder, from server: ServerDriver) throws(WireError)
}

/// What assigning a server to a client did.
enum AssignOutcome: Equatable {
    /// Lent now: forward to it.
    case attached
    /// Parameters are being set first; the owner hears `serverAttached` or `serverSyncFailed`.
    case syncing
    /// The server cannot be lent (not idle).
    case refused(ServerFailure)
}

/// One server connection on the engine: owns its socket and decoder, feeds `ServerSession` what the socket did
/// and runs the actions it returns in `run(_:)`.
final class ServerDriver: ConnectionDelegate {
    let id: ServerID
    let key: PoolKey
    let target: ServerTarget
    private(set) var loop: IOLoop
    private(set) var session: ServerSession
    private(set) var connection: Connection?
    private var decoder: FrameDecoder
    private var loginTimer: TimerID?
    private let connectTimeout: Duration
    /// The loop's shards; changes when the server moves to another loop.
    unowned var owner: any ServerDriverOwner
    /// The client driver the server forwards to while lent.
    var sink: (any ServerFrameSink)?
    private let settings: Settings
    private let logger: Logger
    /// Wall-clock seconds of the connect and of the last lending (SHOW SERVERS connect_time, request_time).
    let connectedAtWall = Int(time(nil))
    private(set) var lentAtWall = Int(time(nil))

    init(
        id: ServerID, key: PoolKey, target: ServerTarget, credentials: ServerCredentials, loop: IOLoop,
        owner: any ServerDriverOwner, settings: Settings, logger: Logger
    ) {
        self.id = id
        self.key = key
        self.target = target
        self.loop = loop
        self.owner = owner
        self.settings = settings
        self.connectTimeout = .milliseconds(Int64(settings.serverConnectTimeout * 1000))
        self.decoder = FrameDecoder(maxMessageSize: settings.maxPacketSize)
        self.session = ServerSession(
            id: id, login: ServerLogin(user: target.user, credentials: credentials, randomBytes: SecureRandom.bytes(18)),
            now: loop.now)
        var logger = logger
        logger[metadataKey: "server"] = "\(id)"
        logger[metadataKey: "db"] = "\(key.database)"
        logger[metadataKey: "user"] = "\(key.user)"
        self.logger = logger
    }

    // MARK: Connect

    /// Connects and logs in; the owner hears `serverLoggedIn` or `serverLoginFailed`. server_connect_timeout
    /// covers both: a server that accepts TCP and never answers the startup must not hold a slot forever.
    func start() {
        armLoginDeadline()
        let endpoint: Endpoint
        switch target.address {
        case .tcp(let host, let port): endpoint = .tcp(host: host, port: port)
        case .unix(let path): endpoint = .unix(path: path)
        }
        loop.connect(to: endpoint, timeout: connectTimeout) { [self] result in
            switch result {
            case .success(let socket):
                guard case .connecting = self.session.state else {
                    socket.close()  // the login deadline passed first
                    return
                }
                self.adopt(socket)
            case .failure(let error):
                self.run(self.session.connectFailed("could not connect to server \(self.target.address): \(error)"))
            }
        }
    }

    /// Starts the server_connect_timeout clock (from `start`, or by a test that adopts a socket itself).
    func armLoginDeadline() {
        guard loginTimer == nil else { return }
        loginTimer = loop.schedule(at: loop.now + connectTimeout) { [self] in
            self.loginTimer = nil
            self.run(self.session.loginDeadlinePassed(timeout: self.connectTimeout))
        }
    }

    /// Takes over a connected socket (the connector's, or a test's socketpair) and sends the startup.
    func adopt(_ socket: SpillwayEngine.Socket) {
        do {
            connection = try Connection(socket: socket, loop: loop, delegate: self)
        } catch {
            socket.close()
            run(session.connectFailed("could not watch the server socket: \(error)"))
            return
        }
        if case .tcp = target.address {
            TCPOptions.apply(to: socket, isTCP: true, settings: settings, logger: logger)
        } else {
            TCPOptions.apply(to: socket, isTCP: false, settings: settings, logger: logger)
        }
        run(session.connected())
    }

    // MARK: Calls from the owner (outcomes returned, nothing called back)

    /// Lends the idle server to `client`, first setting `sync` when the client's tracked parameters differ.
    func assign(to client: ClientID, sync: String?, sink: any ServerFrameSink) -> AssignOutcome {
        let action = session.assign(to: client, sync: sync)
        switch action {
        case .attached:
            self.sink = sink
            lentAtWall = Int(time(nil))
            connection?.resumeReading()
            return .attached
        case .send(let messages):
            self.sink = sink
            send(messages)
            return .syncing
        case .syncFailed(_, let failure):
            return .refused(failure)
        default:
            return .refused(ServerFailure(message: "unexpected answer to assign: \(action)"))
        }
    }

    /// The client gave the server back: idle now (true), or after `statements`, when the owner hears
    /// `serverFinished(.reset, ...)` (false).
    func release(statements: [String]) -> Bool {
        sink = nil
        connection?.resumeReading()
        let action = session.release(statements: statements, now: loop.now)
        if case .send(let messages) = action {
            send(messages)
            return false
        }
        return true
    }

    /// Runs Spillway's statements on the idle server; the owner hears `serverFinished(purpose, ...)`.
    func runStatements(_ statements: [String], purpose: ServerSession.Purpose) {
        if case .send(let messages) = session.run(statements, purpose: purpose) { send(messages) }
    }

    /// Closes the server (idle timeout, lifetime, RECONNECT, shutdown). The owner hears nothing: it asked.
    func close(reason: String) {
        if case .close = session.close(reason: reason) {
            logger.debug("server closed", metadata: ["reason": "\(reason)"])
            cancelLoginTimer()
            connection?.close()
            connection = nil
        }
    }

    /// Writes bytes from the client holding the server.
    @inline(__always)
    func write(_ bytes: ByteBuffer) {
        connection?.write(bytes)
    }

    /// Moves the idle server to `target`'s loop; `arrived` runs there. False when it cannot move now.
    func move(to target: IOLoop, arrived: @escaping (ServerDriver) -> Void) -> Bool {
        guard session.isIdle, let connection else { return false }
        return connection.move(to: target) { [self] moved in
            self.loop = moved.loop
            arrived(self)
        }
    }

    // MARK: Socket events

    func received(_ bytes: ByteBuffer, on connection: Connection) {
        decoder.append(bytes)
        do {
            if case .active = session.state, let sink {
                try sink.serverSent(&decoder, from: self)
                return
            }
            while let frame = try decoder.next() {
                run(session.received(frame, now: loop.now))
                if case .active = session.state, let sink {
                    // A sync just finished: what follows is the client's.
                    try sink.serverSent(&decoder, from: self)
                    return
                }
            }
        } catch {
            logger.warning("server sent a malformed message", metadata: ["error": "\(error)"])
            protocolFailure("server sent a malformed message: \(error)")
        }
    }

    func closed(_ connection: Connection, error: SocketError?) {
        self.connection = nil
        cancelLoginTimer()
        run(session.socketClosed())
    }

    func drained(_ connection: Connection) {
        // PostgreSQL can take more again: the client holding it may send.
        (sink as? any ServerDrainListener)?.serverDrained(self)
    }

    /// Stops reading from PostgreSQL while the client holding the server cannot take more.
    func pauseReading() { connection?.pauseReading() }
    func resumeReading() { connection?.resumeReading() }
    var isWritable: Bool { connection?.isWritable ?? true }

    /// Notes a ParameterStatus the sink forwarded.
    func noteParameterStatus(_ frame: Frame) { session.noteParameterStatus(frame) }

    // MARK: Actions

    /// Runs one action of the session's.
    private func run(_ action: ServerSession.Action) {
        switch action {
        case .none:
            break
        case .sendStartup:
            connection?.write { StartupMessage(parameters: self.target.startupParameters).encode(into: &$0) }
        case .send(let messages):
            send(messages)
        case .loggedIn:
            cancelLoginTimer()
            logger.debug("server logged in")
            owner.serverLoggedIn(self)
        case .loginFailed(let failure):
            cancelLoginTimer()
            connection?.abort()
            connection = nil
            owner.serverLoginFailed(self, failure)
        case .attached(let client, let synced):
            lentAtWall = Int(time(nil))
            owner.serverAttached(self, to: client, synced: synced ?? session.tracked)
        case .syncFailed(let client, let failure):
            sink = nil
            owner.serverSyncFailed(self, client: client, failure)
        case .finished(let purpose, let result):
            owner.serverFinished(self, purpose, result)
        case .close(let reason):
            logger.info("server closed", metadata: ["reason": "\(reason)"])
            connection?.abort()
            connection = nil
            owner.serverClosed(self, client: nil, reason: reason)
        case .lost(let client, let purpose):
            if client != nil || purpose != nil {
                logger.warning("server connection lost while in use", metadata: [
                    "client": "\(client.map { "\($0)" } ?? "-")", "purpose": "\(purpose.map { "\($0)" } ?? "-")",
                ])
            }
            sink = nil
            owner.serverClosed(self, client: client, reason: "server closed the connection")
        }
    }

    private func send(_ messages: [FrontendMessage]) {
        connection?.write { buffer in
            for message in messages { message.encode(into: &buffer) }
        }
    }

    private func protocolFailure(_ reason: String) {
        let client: ClientID?
        if case .active(let holder) = session.state { client = holder } else { client = nil }
        _ = session.close(reason: reason)
        cancelLoginTimer()
        connection?.abort()
        connection = nil
        sink = nil
        owner.serverClosed(self, client: client, reason: reason)
    }

    private func cancelLoginTimer() {
        if let timer = loginTimer {
            loop.cancel(timer)
            loginTimer = nil
        }
    }
}

/// A sink that wants to know when PostgreSQL can take more bytes after it could not (backpressure).
protocol ServerDrainListener: AnyObject {
    func serverDrained(_ server: ServerDriver)
}
