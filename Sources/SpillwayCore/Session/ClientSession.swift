import PostgresWire

/// What one logged-in client holds and owes, in the pool mode it runs in.
///
/// Pure: the client handler feeds it the `MessageType` of every message in each direction and carries out the
/// returned action. It never reads bodies; the forwarding path stays header-only.
public struct ClientSession: Sendable {
    /// The client's link to a server while it holds one.
    public struct Link: Sendable, Equatable {
        public var server: ServerID
        /// Messages sent that each end with a ReadyForQuery (Query, Sync, FunctionCall) not yet answered.
        public var pendingSyncs: Int = 0
        /// Status from the server's last ReadyForQuery.
        public var status: TransactionStatus = .idle
        /// Extended-protocol messages were sent since the last Sync: the server is inside an implicit
        /// transaction (or discarding until Sync after an error) and must not go to anyone else.
        public var unsynced = false
        /// Syncs sent since the last Execute or Query: the ones PostgreSQL ignores if that Execute starts
        /// COPY FROM STDIN.
        public var syncsSinceExecute = 0
        /// In COPY FROM STDIN: the client's Sync and Flush are ignored by PostgreSQL until CopyDone/CopyFail.
        public var copyIn = false
        /// CopyDone/CopyFail sent before the CopyInResponse they end arrived: a client may pipeline the whole
        /// copy without waiting, and the response must then not open a copy that is already over.
        public var copyEndsAhead = 0
        /// Syncs sent between that copy's Execute and its early CopyDone: swallowed by the copy once it starts.
        public var syncsSwallowedAhead = 0

        public init(server: ServerID, pendingSyncs: Int = 0, status: TransactionStatus = .idle, unsynced: Bool = false) {
            self.server = server
            self.pendingSyncs = pendingSyncs
            self.status = status
            self.unsynced = unsynced
        }

        /// Nothing in flight and no transaction open: the server could serve someone else.
        var isClean: Bool { pendingSyncs == 0 && !unsynced && status == .idle && !copyIn }
    }

    /// Where the client is.
    public enum State: Sendable, Equatable {
        /// Holds no server. Next: `.waiting`, `.closed`.
        case idle
        /// Asked the pool for a server at `since`; its messages are held. Next: `.linked`, `.idle`, `.closed`.
        case waiting(since: ContinuousClock.Instant)
        /// Holds a server. Next: `.idle` (transaction/statement mode), `.rejecting`, `.closed`.
        case linked(Link)
        /// Statement mode: Spillway is rolling back the transaction the client opened on `server`; the
        /// handler owns the server until the rollback ends. Next: `.idle`, `.closed`.
        case rejecting(ServerID)
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
        /// with an error and ReadyForQuery 'I', then release (the session is `.rejecting` meanwhile).
        case rejectTransaction(ServerID)
    }

    /// What to do with the client's server once the client is gone.
    public enum ReleaseAction: Sendable, Equatable {
        case none
        /// The client was waiting: take it out of the wait queue.
        case cancelWait
        /// Give the server back; `rollback`: it is inside a transaction; `reset`: run server_reset_query.
        case release(ServerID, rollback: Bool, reset: Bool)
        /// The server is in the middle of something that cannot be cleaned up by a statement: close it.
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
        to server: ServerID, mode: PoolMode, pendingSyncs: Int = 0, status: TransactionStatus = .idle,
        unsynced: Bool = false
    ) -> ClientSession {
        var session = ClientSession(mode: mode)
        session.state = .linked(Link(server: server, pendingSyncs: pendingSyncs, status: status, unsynced: unsynced))
        return session
    }

    /// The server the client holds, if any.
    /// Linked, inside a transaction, with nothing in flight: the client is thinking (or has leaked it).
    public var isIdleInTransaction: Bool {
        guard case .linked(let link) = state else { return false }
        return link.status != .idle && link.pendingSyncs == 0 && !link.unsynced && !link.copyIn
    }

    public var server: ServerID? {
        if case .linked(let link) = state { return link.server }
        return nil
    }

    /// A message of type `type` arrived from the client.
    public mutating func clientMessage(
        _ type: MessageType, now: @autoclosure () -> ContinuousClock.Instant
    ) -> ClientMessageAction {
        if type == .terminate { return .terminate }
        switch state {
        case .idle:
            state = .waiting(since: now())
            return .holdAndAcquire
        case .waiting, .rejecting, .closed:
            return .hold
        case .linked(var link):
            link.sent(type)
            state = .linked(link)
            return .forward
        }
    }

    /// The pool assigned `server`: held messages go to it now.
    public mutating func serverAssigned(_ server: ServerID) {
        guard case .waiting = state else { preconditionFailure("server assigned to a client that is not waiting") }
        state = .linked(Link(server: server))
    }

    /// A held message was written to the newly assigned server.
    public mutating func heldMessageForwarded(_ type: MessageType) {
        guard case .linked(var link) = state else { return }
        link.sent(type)
        state = .linked(link)
    }

    /// The server entered COPY FROM STDIN (CopyInResponse / CopyBothResponse).
    public mutating func copyInStarted() {
        guard case .linked(var link) = state else { return }
        if link.copyEndsAhead > 0 {
            // The client pipelined the whole copy: it is over already. Only Syncs sent before its CopyDone were
            // swallowed; those after it are answered.
            link.copyEndsAhead -= 1
            link.pendingSyncs = max(0, link.pendingSyncs - link.syncsSwallowedAhead)
            if link.syncsSwallowedAhead > 0, link.syncsSinceExecute == 0 { link.unsynced = true }
            link.syncsSwallowedAhead = 0
            state = .linked(link)
            return
        }
        // Syncs sent after the Execute that started the copy are ignored by PostgreSQL: no ReadyForQuery comes.
        link.pendingSyncs = max(0, link.pendingSyncs - link.syncsSinceExecute)
        // Those Syncs are lost, so the Execute's batch still needs one after CopyDone: until then the server
        // is inside an unsynced batch and may not change hands without a reset.
        if link.syncsSinceExecute > 0 { link.unsynced = true }
        link.syncsSinceExecute = 0
        link.copyIn = true
        state = .linked(link)
    }

    /// The server sent an ErrorResponse: a copy in progress is over.
    public mutating func serverError() {
        guard case .linked(var link) = state, link.copyIn else { return }
        link.copyIn = false
        state = .linked(link)
    }

    /// The linked server sent ReadyForQuery with `status`.
    public mutating func readyForQuery(_ status: TransactionStatus) -> ReadyForQueryAction {
        guard case .linked(var link) = state else { return .forward }
        link.pendingSyncs = max(0, link.pendingSyncs - 1)
        link.status = status
        state = .linked(link)
        guard link.pendingSyncs == 0, !link.unsynced, !link.copyIn, mode != .session else { return .forward }
        if status == .idle {
            state = .idle
            return .forwardAndRelease(link.server)
        }
        if mode == .statement {
            state = .rejecting(link.server)
            return .rejectTransaction(link.server)
        }
        return .forward
    }

    /// The statement-mode rollback finished.
    public mutating func transactionRejected() {
        if case .rejecting = state { state = .idle }
    }

    /// The client disconnected (or was closed by Spillway).
    public mutating func clientClosed() -> ReleaseAction {
        defer { state = .closed }
        switch state {
        case .idle, .closed, .rejecting:
            return .none  // while rejecting, the rollback's completion releases the server
        case .waiting:
            return .cancelWait
        case .linked(let link):
            // Messages in flight, or an unsynced extended-protocol batch, or a COPY: no statement can clean
            // that up reliably (PostgreSQL may be discarding input until Sync).
            if link.pendingSyncs > 0 || link.unsynced || link.copyIn { return .closeServer(link.server) }
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
        state = .idle
        if link.pendingSyncs > 0 || link.unsynced || link.copyIn {
            return .answerError(readyForQueryCount: link.pendingSyncs)
        }
        return .none
    }

    /// The pool could not provide a server (login failed, timed out): the waiting client gets an error.
    public mutating func acquireFailed() {
        if case .waiting = state { state = .idle }
    }
}

extension ClientSession.Link {
    /// Accounts for one message written to the server.
    @inline(__always)
    mutating func sent(_ type: MessageType) {
        switch type {
        case .query, .functionCall:
            pendingSyncs += 1
            unsynced = false
            syncsSinceExecute = 0
        case .sync:
            if copyIn { return }  // ignored by PostgreSQL during COPY FROM STDIN
            pendingSyncs += 1
            unsynced = false
            syncsSinceExecute += 1
        case .execute:
            unsynced = true
            syncsSinceExecute = 0
        case .parse, .bind, .describe, .close:
            unsynced = true
        case .copyDone, .copyFail:
            if copyIn {
                copyIn = false
            } else {
                // Ended before its CopyInResponse came back (pipelined): remembered for `copyInStarted`.
                copyEndsAhead += 1
                syncsSwallowedAhead = syncsSinceExecute
                syncsSinceExecute = 0
            }
        default:
            break  // Flush, CopyData: no effect on who owes what
        }
    }
}
