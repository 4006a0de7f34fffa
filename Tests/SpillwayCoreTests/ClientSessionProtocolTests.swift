import PostgresWire
import Testing

@testable import SpillwayCore

/// Extended protocol, pipelining and COPY: when a server may change hands.
@Suite struct ClientSessionProtocolTests {
    let t0 = ContinuousClock.now
    let s1 = ServerID(1)

    private func send(_ types: MessageType..., to session: inout ClientSession) {
        for type in types { _ = session.clientMessage(type, now: t0) }
    }

    /// Messages pipelined after a Sync keep the server: its ReadyForQuery 'I' does not release it.
    @Test func pipelineAfterSyncKeepsServerUntilItsOwnSync() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.parse, .bind, .describe, .execute, .sync, to: &session)
        send(.parse, .bind, .describe, .execute, to: &session)  // second batch, no Sync yet
        #expect(session.readyForQuery(.idle) == .forward, "released mid-pipeline")
        send(.sync, to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// A client that closes with an unsynced Parse/Bind/Execute gets its server closed, never reused.
    @Test func closeWithUnsyncedExtendedMessagesClosesServer() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.parse, .bind, .execute, .flush, to: &session)
        #expect(session.clientClosed() == .closeServer(s1))
    }

    /// A failed Parse answered before Sync: the server still owes the client a Sync; it keeps the server.
    @Test func errorBeforeSyncKeepsServer() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.parse, .flush, to: &session)
        session.serverError()
        send(.sync, to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// Extended-protocol COPY FROM STDIN: the Sync after Execute is ignored by PostgreSQL; the one after
    /// CopyDone is answered. The server is released after that single ReadyForQuery.
    @Test func extendedCopyInCountsOnlyTheSyncAfterCopyDone() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.parse, .bind, .describe, .execute, .sync, to: &session)
        session.copyInStarted()
        send(.copyData, .copyData, to: &session)
        send(.flush, to: &session)
        send(.sync, to: &session)  // ignored during copy-in
        send(.copyDone, to: &session)
        send(.sync, to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// Extended COPY whose Sync was swallowed by the copy: after CopyDone and before the next Sync the server is
    /// inside an unsynced batch, so a client leaving then has its server closed, never handed on as is.
    @Test func clientGoneBetweenCopyDoneAndSyncRollsBack() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.parse, .bind, .execute, .sync, to: &session)
        session.copyInStarted()
        send(.copyData, .copyDone, to: &session)
        #expect(!session.isIdleInTransaction)
        #expect(session.clientClosed() == .closeServer(s1))
    }

    /// Simple-protocol COPY: Query, CopyData, CopyDone, one ReadyForQuery.
    @Test func simpleCopyInReleasesAfterItsReadyForQuery() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.query, to: &session)
        session.copyInStarted()
        send(.copyData, .copyData, .copyDone, to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// A client that pipelines the whole COPY (Query, CopyData, CopyDone before the CopyInResponse is back) is
    /// not left in a copy that is over: the server goes back at the ReadyForQuery.
    @Test func pipelinedSimpleCopyReleasesAfterItsReadyForQuery() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.query, .copyData, .copyData, .copyDone, to: &session)
        session.copyInStarted()
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// The same for the extended protocol: the Sync before CopyDone is swallowed, the one after it answered.
    @Test func pipelinedExtendedCopyCountsTheSyncAfterCopyDone() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.parse, .bind, .execute, .sync, .copyData, .copyDone, .sync, to: &session)
        session.copyInStarted()
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// A client gone during COPY FROM STDIN: the server is closed (it waits for CopyDone that never comes).
    @Test func closeDuringCopyInClosesServer() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.query, to: &session)
        session.copyInStarted()
        _ = session.readyForQuery(.idle)  // not expected here, but even so the copy is still on
        #expect(session.clientClosed() == .closeServer(s1))
    }

    /// Server lost with an unsynced batch: the client gets an error and keeps its connection.
    @Test func serverLostWithUnsyncedBatchAnswersError() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send(.parse, .bind, .execute, to: &session)
        #expect(session.serverLost() == .answerError(readyForQueryCount: 0))
        #expect(session.state == .idle)
    }
}
