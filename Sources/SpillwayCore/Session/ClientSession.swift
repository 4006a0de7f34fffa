import PostgresWire

/// What one logged-in client holds and owes, in the pool mode it runs in.
///
/// Pure: the client handler feeds it the type byte of every message in each direction and carries out the
/// returned action. It never reads bodies; the forwarding path stays header-only.
public struct ClientSession: Sendable {
    /// The client's link to a server while it holds one.
    public struct Link: Sendable, Equatable {
        public var server: ServerID
        /// Messages sent that each end with a ReadyForQuery (Query, Sync, FunctionCall) not yet answered.
        public var pendingSyncs: Int
        /// Status from the server's last ReadyForQuery.
        public var status: TransactionStatus
    }

    /// Where the client is.
    public enum State: Sendable, Equatable {
        /// Holds no server. Next: `.waiting`, `.closed`.
        case idle
        /// Asked the pool for a server at `since`; its messages are held. Next: `.linked`, `.idle`, `.closed`.
        case waiting(since: ContinuousClock.Instant)
        /// Holds a server. Next: `.idle` (transaction/statement mode), `.closed`.
        case linked(Link)
        /// Gone. Final.
        case closed
    }

    /// What to do with a message from the client.
    public enum ClientMessageAction: Sendable, Equatable {
        /// Write it to the linked server.
        case forward
        /// Keep it, and ask the pool for a server.
        case holdAndAcquire
        /// Keep it until the server arrives.
        case hold
        /// The client said goodbye (Terminate): close it, do not forward.
        case terminate
    }

    /// What to do with a ReadyForQuery from the server (decided before it is forwarded).
    public enum ReadyForQueryAction: Sendable, Equatable {
        /// Forward it; the client keeps the server.
        case forward
        /// Forward it, then give the server back to the pool, clean.
        case forwardAndRelease(ServerID)
        /// Statement mode and a transaction was opened: do not forward; roll back, then answer the client
        /// with an error and ReadyForQuery 'I', then release.
        case rejectTransaction(ServerID)
    }

    /// What to do with the client's server once the client is gone or its server was lost.
    public enum ReleaseAction: Sendable, Equatable {
        case none
        /// The client was waiting: take it out of the wait queue.
        case cancelWait
        /// Give the server back; `rollback`: it is inside a transaction; `reset`: run server_reset_query.
        case release(ServerID, rollback: Bool, reset: Bool)
        /// The server is in the middle of answering: it cannot be cleaned, close it.
        case closeServer(ServerID)
    }

    /// What the client is owed after its server died under it.
    public enum ServerLostAction: Sendable, Equatable {
        case none
        /// Answer an error and this many ReadyForQuery 'I'; the client keeps its connection.
        case answerError(readyForQueryCount: Int)
        /// Its session or transaction state is gone: FATAL and close.
        case closeClient
    }

    public let mode: PoolMode
    public private(set) var state: State = .idle

    public init(mode: PoolMode) {
        self.mode = mode
    }

    /// A client whose session is linked to `server` (test builder: start mid-story).
    public static func linked(
        to server: ServerID, mode: PoolMode, pendingSyncs: Int = 0, status: TransactionStatus = .idle
    ) -> ClientSession {
        var session = ClientSession(mode: mode)
        session.state = .linked(Link(server: server, pendingSyncs: pendingSyncs, status: status))
        return session
    }

    /// The server the client holds, if any.
    public var server: ServerID? {
        if case .linked(let link) = state { return link.server }
        return nil
    }

    /// A message of type `type` arrived from the client.
    public mutating func clientMessage(_ type: UInt8, now: ContinuousClock.Instant) -> ClientMessageAction {
        if type == FrontendType.terminate { return .terminate }
        switch state {
        case .idle:
            state = .waiting(since: now)
            return .holdAndAcquire
        case .waiting:
            return .hold
        case .linked(var link):
            if FrontendType.endsWithReadyForQuery(type) {
                link.pendingSyncs += 1
                state = .linked(link)
            }
            return .forward
        case .closed:
            return .hold
        }
    }

    /// The pool assigned `server`: held messages go to it now.
    public mutating func serverAssigned(_ server: ServerID) {
        guard case .waiting = state else { preconditionFailure("server assigned to a client that is not waiting") }
        state = .linked(Link(server: server, pendingSyncs: 0, status: .idle))
    }

    /// The held messages were written to the server: count those that each end with a ReadyForQuery.
    public mutating func heldMessageForwarded(_ type: UInt8) {
        guard case .linked(var link) = state, FrontendType.endsWithReadyForQuery(type) else { return }
        link.pendingSyncs += 1
        state = .linked(link)
    }

    /// The linked server sent ReadyForQuery with `status`.
    public mutating func readyForQuery(_ status: TransactionStatus) -> ReadyForQueryAction {
        guard case .linked(var link) = state else { return .forward }
        link.pendingSyncs = max(0, link.pendingSyncs - 1)
        link.status = status
        guard link.pendingSyncs == 0, mode != .session else {
            state = .linked(link)
            return .forward
        }
        if status == .idle {
            state = .idle
            return .forwardAndRelease(link.server)
        }
        if mode == .statement {
            state = .linked(link)
            return .rejectTransaction(link.server)
        }
        state = .linked(link)
        return .forward
    }

    /// The statement-mode rollback finished: the client holds no server any more.
    public mutating func transactionRejected() -> ServerID? {
        guard case .linked(let link) = state else { return nil }
        state = .idle
        return link.server
    }

    /// The client disconnected (or was closed by Spillway).
    public mutating func clientClosed() -> ReleaseAction {
        defer { state = .closed }
        switch state {
        case .idle, .closed:
            return .none
        case .waiting:
            return .cancelWait
        case .linked(let link):
            if link.pendingSyncs > 0 { return .closeServer(link.server) }
            return .release(link.server, rollback: link.status != .idle, reset: mode == .session)
        }
    }

    /// The linked server's connection died.
    public mutating func serverLost() -> ServerLostAction {
        guard case .linked(let link) = state else { return .none }
        if mode == .session {
            state = .closed
            return .closeClient
        }
        // Inside a transaction its work is gone: going on in autocommit could commit half of it.
        if link.status != .idle {
            state = .closed
            return .closeClient
        }
        if link.pendingSyncs > 0 {
            state = .idle
            return .answerError(readyForQueryCount: link.pendingSyncs)
        }
        state = .idle
        return .none
    }

    /// The pool could not provide a server (login failed, timed out): the waiting client gets an error.
    public mutating func acquireFailed() {
        if case .waiting = state { state = .idle }
    }
}

/// Frontend message type bytes the session looks at.
public enum FrontendType {
    public static let query = UInt8(ascii: "Q")
    public static let sync = UInt8(ascii: "S")
    public static let functionCall = UInt8(ascii: "F")
    public static let terminate = UInt8(ascii: "X")

    /// Query, Sync and FunctionCall are each answered by exactly one ReadyForQuery.
    @inline(__always)
    public static func endsWithReadyForQuery(_ type: UInt8) -> Bool {
        type == query || type == sync || type == functionCall
    }
}
