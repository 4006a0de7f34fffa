import PostgresWire
import Testing

@testable import SpillwayCore

/// Extended protocol, pipelining and COPY: when a server may change hands.
@Suite struct ClientSessionProtocolTests {
    let t0 = ContinuousClock.now
    let s1 = ServerID(1)

    private func byte(_ c: Character) -> UInt8 { UInt8(ascii: c.unicodeScalars.first!) }

    private func send(_ types: String, to session: inout ClientSession) {
        for c in types { _ = session.clientMessage(byte(c), now: t0) }
    }

    /// Messages pipelined after a Sync keep the server: its ReadyForQuery 'I' does not release it.
    @Test func pipelineAfterSyncKeepsServerUntilItsOwnSync() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("PBDES", to: &session)
        send("PBDE", to: &session)  // second batch, no Sync yet
        #expect(session.readyForQuery(.idle) == .forward, "released mid-pipeline")
        send("S", to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// A client that closes with an unsynced Parse/Bind/Execute gets its server closed, never reused.
    @Test func closeWithUnsyncedExtendedMessagesClosesServer() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("PBEH", to: &session)
        #expect(session.clientClosed() == .closeServer(s1))
    }

    /// A failed Parse answered before Sync: the server still owes the client a Sync; it keeps the server.
    @Test func errorBeforeSyncKeepsServer() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("PH", to: &session)
        session.serverError()
        send("S", to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// Extended-protocol COPY FROM STDIN: the Sync after Execute is ignored by PostgreSQL; the one after
    /// CopyDone is answered. The server is released after that single ReadyForQuery.
    @Test func extendedCopyInCountsOnlyTheSyncAfterCopyDone() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("PBDES", to: &session)
        session.copyInStarted()
        send("dd", to: &session)
        send("H", to: &session)
        send("S", to: &session)  // ignored during copy-in
        send("c", to: &session)
        send("S", to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// Extended COPY whose Sync was swallowed by the copy: after CopyDone and before the next Sync the server is
    /// inside an unsynced batch, so a client leaving then has its server closed, never handed on as is.
    @Test func clientGoneBetweenCopyDoneAndSyncRollsBack() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("PBES", to: &session)
        session.copyInStarted()
        send("dc", to: &session)
        #expect(!session.isIdleInTransaction)
        #expect(session.clientClosed() == .closeServer(s1))
    }

    /// Simple-protocol COPY: Query, CopyData, CopyDone, one ReadyForQuery.
    @Test func simpleCopyInReleasesAfterItsReadyForQuery() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("Q", to: &session)
        session.copyInStarted()
        send("ddc", to: &session)
        #expect(session.readyForQuery(.idle) == .forwardAndRelease(s1))
    }

    /// A client gone during COPY FROM STDIN: the server is closed (it waits for CopyDone that never comes).
    @Test func closeDuringCopyInClosesServer() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("Q", to: &session)
        session.copyInStarted()
        _ = session.readyForQuery(.idle)  // not expected here, but even so the copy is still on
        #expect(session.clientClosed() == .closeServer(s1))
    }

    /// Server lost with an unsynced batch: the client gets an error and keeps its connection.
    @Test func serverLostWithUnsyncedBatchAnswersError() {
        var session = ClientSession.linked(to: s1, mode: .transaction)
        send("PBE", to: &session)
        #expect(session.serverLost() == .answerError(readyForQueryCount: 0))
        #expect(session.state == .idle)
    }
}
