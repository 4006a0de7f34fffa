import PostgresWire
import Testing

@testable import SpillwayCore

@Suite struct ClientSessionTests {
    let t0 = ContinuousClock.now
    let s1 = ServerID(1)

    // MARK: Getting a server

    /// The first message of an idle client is held and a server is asked for; later ones are held too.
    @Test func firstMessageHoldsAndAcquires() {
        var session = ClientSession(mode: .transaction)
        #expect(session.clientMessage(MessageType.query, now: t0) == .holdAndAcquire)
        #expect(session.state == .waiting(since: t0))
        #expect(session.clientMessage(MessageType.parse, now: t0 + .seconds(1)) == .hold)
        #expect(session.state == .waiting(since: t0))
        #expect(session.server == nil)
    }

    /// The assigned server links the session; held messages that end with ReadyForQuery are counted.
    @Test func serverAssignedLinksAndCountsHeldMessages() {
        var session = ClientSession(mode: .transaction)
        _ = session.clientMessage(MessageType.parse, now: t0)
        _ = session.clientMessage(MessageType.bind, now: t0)
        _ = session.clientMessage(MessageType.sync, now: t0)
        session.serverAssigned(s1)
        #expect(session.server == s1)
        for type in [MessageType.parse, MessageType.bind, MessageType.sync] { session.heldMessageForwarded(type) }
        guard case .linked(let link) = session.state else {
            Issue.record("not linked: \(session.state)")
            return
        }
        #expect(link.pendingSyncs == 1)
        #expect(!link.unsynced, "Sync closes the extended-protocol batch")
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
        #expect(session.state == .idle)
    }

    /// The pool could not provide a server: the waiting client holds nothing and can ask again.
    @Test func acquireFailedReturnsWaitingClientToIdle() {
        var session = ClientSession(mode: .transaction)
        _ = session.clientMessage(MessageType.query, now: t0)
        session.acquireFailed()
        #expect(session.state == .idle)
        #expect(session.clientMessage(MessageType.query, now: t0 + .seconds(1)) == .holdAndAcquire)
    }

    // MARK: Transaction mode

    /// Transaction mode: a query answered with ReadyForQuery 'I' gives the server back.
    @Test func transactionModeReleasesServerOnIdleReadyForQuery() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        #expect(session.clientMessage(MessageType.query, now: t0) == .forward)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
        #expect(session.state == .idle)
        #expect(session.server == nil)
    }

    /// Transaction mode, two pipelined queries: the first 'I' keeps the server, the second releases it.
    @Test func transactionModeReleasesAfterLastPipelinedQueryIsAnswered() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        #expect(session.clientMessage(MessageType.query, now: t0) == .forward)
        #expect(session.clientMessage(MessageType.query, now: t0) == .forward)
        #expect(session.readyForQuery(.idle) == .forward)
        #expect(session.server == s1)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
        #expect(session.state == .idle)
    }

    /// Extended protocol: Parse/Bind/Execute/Sync twice, plus a FunctionCall: three ReadyForQuery are owed and
    /// Parse, Bind, Execute, Describe and Flush owe none.
    @Test func transactionModeCountsSyncAndFunctionCallButNotOtherMessages() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        for type in [MessageType.parse, MessageType.bind, MessageType.describe, MessageType.execute, MessageType.flush, MessageType.sync,
                     MessageType.bind, MessageType.execute, MessageType.sync, MessageType.functionCall] {
            #expect(session.clientMessage(type, now: t0) == .forward)
        }
        #expect(session.state == .linked(.init(server: s1, pendingSyncs: 3, status: .idle)))
        #expect(session.readyForQuery(.idle) == .forward)
        #expect(session.readyForQuery(.idle) == .forward)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// Transaction mode: 'T' and 'E' keep the server until the transaction ends with 'I'.
    @Test func transactionModeKeepsServerInTransactionAndFailedTransaction() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        _ = session.clientMessage(MessageType.query, now: t0)  // BEGIN
        #expect(session.readyForQuery(.inTransaction) == .forward)
        #expect(session.state == .linked(.init(server: s1, pendingSyncs: 0, status: .inTransaction)))
        _ = session.clientMessage(MessageType.query, now: t0)  // a failing statement
        #expect(session.readyForQuery(.failed) == .forward)
        #expect(session.state == .linked(.init(server: s1, pendingSyncs: 0, status: .failed)))
        _ = session.clientMessage(MessageType.query, now: t0)  // ROLLBACK
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// A ReadyForQuery the session owes nothing for (e.g. after an error mid-pipeline) never drives the count
    /// below zero.
    @Test func unexpectedReadyForQueryDoesNotGoNegative() {
        var session = ClientSession.linked(to: s1, mode: .transaction, status: .inTransaction)
        #expect(session.readyForQuery(.inTransaction) == .forward)
        #expect(session.state == .linked(.init(server: s1, pendingSyncs: 0, status: .inTransaction)))
    }

    /// A ReadyForQuery while the session holds no server is just forwarded.
    @Test func readyForQueryWithoutServerIsForwarded() {
        var session = ClientSession(mode: .transaction)
        #expect(session.readyForQuery(.idle) == .forward)
        #expect(session.state == .idle)
    }

    // MARK: Session mode

    /// Session mode: the client keeps its server across every ReadyForQuery, 'I' included.
    @Test func sessionModeNeverReleasesOnReadyForQuery() {
        var session = ClientSession.linked(to: s1, mode: .session)
        for status in [TransactionStatus.idle, .inTransaction, .failed, .idle] {
            _ = session.clientMessage(MessageType.query, now: t0)
            #expect(session.readyForQuery(status) == .forward)
            #expect(session.server == s1)
        }
    }

    // MARK: Statement mode

    /// Statement mode: a statement that leaves a transaction open ('T') is rejected; the rollback finishing
    /// frees the server.
    @Test func statementModeRejectsTransaction() {
        var session = ClientSession.linked(to: s1, mode: .statement)
        _ = session.clientMessage(MessageType.query, now: t0)  // BEGIN
        #expect(session.readyForQuery(.inTransaction) == .rejectTransaction(s1))
        #expect(session.state == .rejecting(s1))
        // The client closing meanwhile releases nothing: the rollback owns the server.
        var closing = session
        #expect(closing.clientClosed() == .none)
        session.transactionRejected()
        #expect(session.state == .idle)
    }

    /// Statement mode: an autocommit statement ('I') releases the server like transaction mode.
    @Test func statementModeReleasesOnIdleReadyForQuery() {
        var session = ClientSession.linked(to: s1, mode: .statement)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// Statement mode, pipelined: the rejection waits for the last ReadyForQuery owed.
    @Test func statementModeWaitsForLastPipelinedAnswerBeforeRejecting() {
        var session = ClientSession.linked(to: s1, mode: .statement)
        _ = session.clientMessage(MessageType.query, now: t0)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.readyForQuery(.inTransaction) == .forward)
        #expect(session.readyForQuery(.inTransaction) == .rejectTransaction(s1))
    }

    // MARK: Terminate

    /// Terminate is never forwarded, whatever the state.
    @Test func terminateIsNotForwardedInAnyState() {
        var idle = ClientSession(mode: .transaction)
        #expect(idle.clientMessage(MessageType.terminate, now: t0) == .terminate)
        #expect(idle.state == .idle)

        var waiting = ClientSession(mode: .transaction)
        _ = waiting.clientMessage(MessageType.query, now: t0)
        #expect(waiting.clientMessage(MessageType.terminate, now: t0) == .terminate)

        var linked = ClientSession.linked(to: s1, mode: .session)
        #expect(linked.clientMessage(MessageType.terminate, now: t0) == .terminate)
        #expect(linked.state == .linked(.init(server: s1, pendingSyncs: 0, status: .idle)))
    }

    // MARK: Client closed

    /// A client that closes holding no server owes nothing.
    @Test func clientClosedWhileIdleDoesNothing() {
        var session = ClientSession(mode: .transaction)
        #expect(session.clientClosed() == ReleaseAction.none)
        #expect(session.state == .closed)
        #expect(session.clientClosed() == ReleaseAction.none)
    }

    /// A client that closes while waiting leaves the wait queue.
    @Test func clientClosedWhileWaitingCancelsWait() {
        var session = ClientSession(mode: .transaction)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.clientClosed() == .cancelWait)
        #expect(session.state == .closed)
    }

    /// A client that closes linked to an idle server gives it back without ROLLBACK (transaction mode).
    @Test func clientClosedLinkedIdleReleasesWithoutRollback() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        #expect(session.clientClosed() == .release(s1, rollback: false, reset: false))
        #expect(session.state == .closed)
    }

    /// A client that closes inside a transaction ('T' or 'E') gives the server back to be rolled back.
    @Test(arguments: [TransactionStatus.inTransaction, .failed])
    func clientClosedInTransactionReleasesWithRollback(status: TransactionStatus) {
        var session = ClientSession.linked(to: s1, mode: .transaction, status: status)
        #expect(session.clientClosed() == .release(s1, rollback: true, reset: false))
    }

    /// A client that closes while its server still owes answers: the server cannot be cleaned, close it.
    @Test func clientClosedWithPendingSyncsClosesServer() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.clientClosed() == .closeServer(s1))
        #expect(session.state == .closed)
    }

    /// Session mode: closing runs server_reset_query, and ROLLBACK as well when inside a transaction.
    @Test func sessionModeClientClosedResetsServer() {
        var clean = ClientSession.linked(to: s1, mode: .session)
        #expect(clean.clientClosed() == .release(s1, rollback: false, reset: true))

        var inTransaction = ClientSession.linked(to: s1, mode: .session, status: .inTransaction)
        #expect(inTransaction.clientClosed() == .release(s1, rollback: true, reset: true))
    }

    /// A closed session holds messages rather than asking for a server again.
    @Test func closedSessionDoesNotAcquire() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        _ = session.clientClosed()
        #expect(session.clientMessage(MessageType.query, now: t0) == .hold)
        #expect(session.state == .closed)
    }

    // MARK: Server lost

    /// The server dies with two queries unanswered: the client gets an error and two ReadyForQuery 'I', keeps
    /// its connection and holds no server.
    @Test func serverLostWithPendingQueriesAnswersErrorPerPendingSync() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        _ = session.clientMessage(MessageType.query, now: t0)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.serverLost() == .answerError(readyForQueryCount: 2))
        #expect(session.state == .idle)
        #expect(session.clientMessage(MessageType.query, now: t0) == .holdAndAcquire)
    }

    /// Session mode: the session's state died with the server, so the client is closed.
    @Test func sessionModeServerLostClosesClient() {
        var session = ClientSession.linked(to: s1, mode: .session)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.serverLost() == .closeClient)
        #expect(session.state == .closed)
    }

    /// Idle in transaction: the transaction died with the server, so the client is closed.
    @Test(arguments: [TransactionStatus.inTransaction, .failed])
    func serverLostIdleInTransactionClosesClient(status: TransactionStatus) {
        var session = ClientSession.linked(to: s1, mode: .transaction, status: status)
        #expect(session.serverLost() == .closeClient)
        #expect(session.state == .closed)
    }

    /// Inside a transaction with a query unanswered: the transaction died with the server just as when idle in
    /// it. Answering an error and ReadyForQuery 'I' would let the client's next COMMIT run on a fresh server
    /// outside any transaction and report success for work that was lost.
    @Test func serverLostMidQueryInsideTransactionClosesClient() {
        var session = ClientSession.linked(to: s1, mode: .transaction, status: .inTransaction)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.serverLost() == .closeClient)
        #expect(session.state == .closed)
    }

    /// Linked, idle and owing nothing: losing the server costs the client nothing.
    @Test func serverLostWhileLinkedIdleOwesNothing() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        #expect(session.serverLost() == ServerLostAction.none)
        #expect(session.state == .idle)
    }

    /// A server lost while the client holds none is not the client's concern.
    @Test func serverLostWithoutServerDoesNothing() {
        var session = ClientSession(mode: .transaction)
        _ = session.clientMessage(MessageType.query, now: t0)
        #expect(session.serverLost() == ServerLostAction.none)
        #expect(session.state == .waiting(since: t0))
    }
}

private typealias ReleaseAction = ClientSession.ReleaseAction
private typealias ServerLostAction = ClientSession.ServerLostAction
