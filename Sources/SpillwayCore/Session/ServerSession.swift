import PostgresWire

/// The life of one server connection, from connect to close: login, idle in a shard, lent to a client,
/// running Spillway's own statements (reset, check, parameter sync, the budget query).
///
/// The server driver feeds it what the socket did and runs the action it returns. Frames of a server lent to a
/// client are forwarded by the driver without passing through here (only their ParameterStatus is noted with
/// `noteParameterStatus`); everything else the server sends arrives as `received(_:now:)`.
public struct ServerSession: Sendable {
    /// Where the connection is.
    public enum State: Sendable {
        /// Connecting; `server_connect_timeout` runs from here to the end of login. Next: `.login`, `.closed`.
        case connecting
        /// StartupMessage sent; answering authentication, noting ParameterStatus and BackendKeyData.
        /// Next: `.idle`, `.closed`.
        case login(ServerLogin)
        /// In its shard, lent to nobody, since `since`. Next: `.active`, `.running`, `.closed`.
        case idle(since: ContinuousClock.Instant)
        /// Lent to `client`: its frames go straight to that client. Next: `.idle`, `.running`, `.closed`.
        case active(ClientID)
        /// Running Spillway's statements; their replies stop here. Next: `.idle`, `.active` (after a sync),
        /// `.closed`.
        case running(Statements)
        /// Gone: the socket is closed or closing.
        case closed
    }

    /// Why Spillway runs statements of its own on a server.
    public enum Purpose: Sendable, Equatable {
        /// Returning from a client: ROLLBACK, `server_reset_query`. The server goes back idle after.
        case reset
        /// `server_check_query` before lending a server idle for `server_check_delay`.
        case check
        /// Setting a client's tracked parameters before it is attached; the server is lent to it after.
        case sync(for: ClientID)
        /// A query whose rows Spillway wants (the host's connection budget).
        case query
    }

    /// Statements in flight and what their replies said so far.
    public struct Statements: Sendable, Equatable {
        public var purpose: Purpose
        /// ReadyForQuery messages still to come: one per simple Query sent.
        public var remaining: Int
        /// The first ErrorResponse among the replies.
        public var error: ErrorResponse?
        /// DataRow values, as text (`.query` only).
        public var rows: [[String?]] = []
    }

    /// What the driver does next.
    public enum Action: Sendable, Equatable {
        /// Nothing.
        case none
        /// Send the StartupMessage (the driver knows the target's parameters).
        case sendStartup
        /// Send these messages.
        case send([FrontendMessage])
        /// Login finished: the server is idle; hand it to the shard.
        case loggedIn
        /// Login failed; close the socket and tell the shard why (it may pause logins, server_login_retry).
        case loginFailed(ServerFailure)
        /// The server is lent to `client` and forwards for it now; `synced` is set when tracked parameters had
        /// to be set first (the client adopts the server's spelling of them).
        case attached(ClientID, synced: TrackedParameters?)
        /// Setting `client`'s parameters failed: the server is idle again; the client gets `failure`.
        case syncFailed(ClientID, ServerFailure)
        /// Statements of `purpose` finished (the server is idle again): their rows, or why they failed.
        case finished(Purpose, Result<[[String?]], ServerFailure>)
        /// Close the socket: the server cannot be used any more (`reason` for the log).
        case close(reason: String)
        /// The socket closed. `client` held the server (it must be told); `purpose` was running.
        case lost(client: ClientID?, purpose: Purpose?)
    }

    /// The server connection's ID.
    public let id: ServerID
    public private(set) var state: State = .connecting
    /// When the connection was started, for `server_lifetime`.
    public let startedAt: ContinuousClock.Instant
    /// Every ParameterStatus the server reported, in order of first report (sent to clients at login).
    public private(set) var reported: [(name: String, value: String)] = []
    /// The tracked subset, compared with a client's before it is attached.
    public private(set) var tracked = TrackedParameters()
    /// What a CancelRequest for this server must carry.
    public private(set) var backendKey: CancelRequest?
    private var pendingLogin: ServerLogin?

    /// A server about to connect; `login` answers its authentication.
    public init(id: ServerID, login: ServerLogin, now: ContinuousClock.Instant) {
        self.id = id
        self.startedAt = now
        self.pendingLogin = login
    }

    // MARK: Connect and log in

    /// The socket connected: send the StartupMessage.
    public mutating func connected() -> Action {
        guard case .connecting = state, let login = pendingLogin else { return .none }
        pendingLogin = nil
        state = .login(login)
        return .sendStartup
    }

    /// Connecting failed (refused, unreachable, timed out).
    public mutating func connectFailed(_ message: String) -> Action {
        guard case .connecting = state else { return .none }
        state = .closed
        return .loginFailed(ServerFailure(message: message))
    }

    /// `server_connect_timeout` passed: fails a login still in progress, else nothing.
    public mutating func loginDeadlinePassed(timeout: Duration) -> Action {
        switch state {
        case .connecting, .login:
            state = .closed
            return .loginFailed(ServerFailure(
                message: "server did not complete login within server_connect_timeout (\(timeout))"))
        case .idle, .active, .running, .closed:
            return .none
        }
    }

    // MARK: Frames (all but those forwarded to a client)

    /// A frame from the server while it is not forwarding for a client.
    public mutating func received(_ frame: Frame, now: ContinuousClock.Instant) -> Action {
        switch state {
        case .login(var login):
            return loginFrame(frame, login: &login, now: now)
        case .running(var statements):
            return statementFrame(frame, statements: &statements, now: now)
        case .idle:
            switch frame.type {
            case .parameterStatus:
                noteParameterStatus(frame)
                return .none
            case .errorResponse:
                // An idle server speaks up only to say it is going away (pg_terminate_backend, shutdown).
                state = .closed
                let code = (try? ErrorResponse(body: frame.body))?.code?.rawValue ?? "?"
                return .close(reason: "idle server closed by PostgreSQL (SQLSTATE \(code))")
            case .noticeResponse:
                return .none
            default:
                state = .closed
                return .close(reason: "idle server sent an unexpected \(frame.type) message")
            }
        case .active:
            // The driver forwards these itself; a frame reaching here is handled as forwarded.
            if frame.type == .parameterStatus { noteParameterStatus(frame) }
            return .none
        case .connecting, .closed:
            return .none
        }
    }

    private mutating func loginFrame(_ frame: Frame, login: inout ServerLogin, now: ContinuousClock.Instant) -> Action {
        let message: BackendMessage?
        do {
            message = try BackendMessage(frame: frame)
        } catch {
            state = .closed
            return .loginFailed(ServerFailure(message: "server sent a malformed message during login: \(error)"))
        }
        switch message {
        case .authentication(let request):
            let step = login.receive(request)
            state = .login(login)
            switch step {
            case .send(let reply): return .send([reply])
            case .wait, .authenticated: return .none
            case .failed(let reason):
                state = .closed
                return .loginFailed(ServerFailure(message: reason))
            }
        case .parameterStatus(let name, let value):
            note(name, value)
            return .none
        case .backendKeyData(let key):
            backendKey = key
            return .none
        case .readyForQuery:
            state = .idle(since: now)
            return .loggedIn
        case .errorResponse(let error):
            state = .closed
            return .loginFailed(ServerFailure(message: error.message ?? "server refused the login", serverError: error))
        case .noticeResponse, nil:
            return .none
        }
    }

    private mutating func statementFrame(
        _ frame: Frame, statements: inout Statements, now: ContinuousClock.Instant
    ) -> Action {
        switch frame.type {
        case .readyForQuery:
            statements.remaining -= 1
            guard statements.remaining == 0 else {
                state = .running(statements)
                return .none
            }
            return finish(statements, now: now)
        case .errorResponse:
            if statements.error == nil {
                statements.error = (try? ErrorResponse(body: frame.body))
                    ?? ErrorResponse(severity: .error, code: .internalError, message: "unreadable error")
            }
        case .parameterStatus:
            noteParameterStatus(frame)
        case .dataRow where statements.purpose == .query:
            var body = frame.body
            let count = body.readInteger(as: Int16.self) ?? 0  // Int16: number of column values
            statements.rows.append((0..<max(Int(count), 0)).map { _ in
                let length = body.readInteger(as: Int32.self) ?? -1  // Int32: value length; -1 = NULL
                return length < 0 ? nil : body.readString(length: Int(length))
            })
        default:
            break
        }
        state = .running(statements)
        return .none
    }

    private mutating func finish(_ statements: Statements, now: ContinuousClock.Instant) -> Action {
        let failure = statements.error.map {
            ServerFailure(message: "server rejected spillway's statement: \($0.message ?? "")", serverError: $0)
        }
        switch statements.purpose {
        case .sync(let client):
            if let failure {
                state = .idle(since: now)
                return .syncFailed(client, failure)
            }
            state = .active(client)
            return .attached(client, synced: tracked)
        case .reset, .check, .query:
            state = .idle(since: now)
            if let failure { return .finished(statements.purpose, .failure(failure)) }
            return .finished(statements.purpose, .success(statements.rows))
        }
    }

    // MARK: Lending

    /// Lends the idle server to `client`, first setting `sync` (the client's tracked parameters) when given.
    public mutating func assign(to client: ClientID, sync: String?) -> Action {
        guard case .idle = state else {
            return .syncFailed(client, ServerFailure(message: "server connection is not idle"))
        }
        guard let sync else {
            state = .active(client)
            return .attached(client, synced: nil)
        }
        state = .running(Statements(purpose: .sync(for: client), remaining: 1))
        return .send([.query(sync)])
    }

    /// The client gave the server back: idle at once, or after `statements` (ROLLBACK, server_reset_query).
    public mutating func release(statements: [String], now: ContinuousClock.Instant) -> Action {
        guard case .active = state else { return .none }
        guard !statements.isEmpty else {
            state = .idle(since: now)
            return .finished(.reset, .success([]))
        }
        state = .running(Statements(purpose: .reset, remaining: statements.count))
        return .send(statements.map { .query($0) })
    }

    /// Runs Spillway's own `statements` on the idle server (`server_check_query`, the budget query).
    public mutating func run(_ statements: [String], purpose: Purpose) -> Action {
        guard case .idle = state, !statements.isEmpty else { return .none }
        state = .running(Statements(purpose: purpose, remaining: statements.count))
        return .send(statements.map { .query($0) })
    }

    /// Spillway closes the server (idle timeout, lifetime, RECONNECT, a failed reset).
    public mutating func close(reason: String) -> Action {
        if case .closed = state { return .none }
        state = .closed
        return .close(reason: reason)
    }

    /// The socket closed or failed.
    public mutating func socketClosed() -> Action {
        let previous = state
        state = .closed
        switch previous {
        case .connecting, .login:
            return .loginFailed(ServerFailure(message: "server closed the connection during login"))
        case .active(let client):
            return .lost(client: client, purpose: nil)
        case .running(let statements):
            if case .sync(let client) = statements.purpose { return .lost(client: client, purpose: statements.purpose) }
            return .lost(client: nil, purpose: statements.purpose)
        case .idle:
            return .lost(client: nil, purpose: nil)
        case .closed:
            return .none
        }
    }

    // MARK: Parameters

    /// Notes a ParameterStatus frame (forwarded or not).
    public mutating func noteParameterStatus(_ frame: Frame) {
        guard case .parameterStatus(let name, let value)? = try? BackendMessage(frame: frame) else { return }
        note(name, value)
    }

    private mutating func note(_ name: String, _ value: String) {
        _ = tracked.set(name, value)
        if let index = reported.firstIndex(where: { $0.name == name }) {
            reported[index].value = value
        } else {
            reported.append((name, value))
        }
    }

    /// Whether the server is idle (in its shard and lendable).
    public var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// Since when the server is idle, or nil.
    public var idleSince: ContinuousClock.Instant? {
        if case .idle(let since) = state { return since }
        return nil
    }
}
