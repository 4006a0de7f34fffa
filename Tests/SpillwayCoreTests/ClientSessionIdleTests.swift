import PostgresWire
import Testing

@testable import SpillwayCore

/// When a client counts as idle inside its transaction: what the leak guard reclaims and reports.
@Suite struct ClientSessionIdleTests {
    private let s1 = ServerID(1)

    /// Linked, inside a transaction (or a failed one), nothing in flight: idle in transaction.
    @Test(arguments: [TransactionStatus.inTransaction, .failed])
    func linkedInTransactionWithNothingPendingIsIdle(_ status: TransactionStatus) {
        #expect(ClientSession.linked(to: s1, mode: .transaction, status: status).isIdleInTransaction)
        #expect(ClientSession.linked(to: s1, mode: .session, status: status).isIdleInTransaction)
    }

    /// Outside a transaction, or not linked at all, a client is not idle in a transaction.
    @Test func notInTransactionOrNotLinkedIsNotIdle() {
        #expect(!ClientSession.linked(to: s1, mode: .session, status: .idle).isIdleInTransaction)
        #expect(!ClientSession(mode: .transaction).isIdleInTransaction)
        var waiting = ClientSession(mode: .transaction)
        #expect(waiting.clientMessage(MessageType.query, now: ContinuousClock.now) == .holdAndAcquire)
        #expect(!waiting.isIdleInTransaction)
    }

    /// A query in flight inside the transaction is work, not idling; its ReadyForQuery 'T' makes it idle again.
    @Test func pendingSyncsAreNotIdle() {
        var session = ClientSession.linked(to: s1, mode: .transaction, status: .inTransaction)
        #expect(session.clientMessage(MessageType.query, now: ContinuousClock.now) == .forward)
        #expect(!session.isIdleInTransaction)
        #expect(session.readyForQuery(.inTransaction) == .forward)
        #expect(session.isIdleInTransaction)
        #expect(
            !ClientSession.linked(to: s1, mode: .transaction, pendingSyncs: 1, status: .inTransaction)
                .isIdleInTransaction)
    }

    /// An extended-protocol batch sent without its Sync yet is not idle: the server must not be taken from it.
    @Test func unsyncedExtendedBatchIsNotIdle() {
        #expect(
            !ClientSession.linked(to: s1, mode: .transaction, status: .inTransaction, unsynced: true)
                .isIdleInTransaction)
        var session = ClientSession.linked(to: s1, mode: .transaction, status: .inTransaction)
        for type in [MessageType.parse, MessageType.bind, MessageType.execute] {
            _ = session.clientMessage(type, now: ContinuousClock.now)
            #expect(!session.isIdleInTransaction)
        }
        _ = session.clientMessage(MessageType.sync, now: ContinuousClock.now)
        #expect(!session.isIdleInTransaction)
        #expect(session.readyForQuery(.inTransaction) == .forward)
        #expect(session.isIdleInTransaction)
    }

    /// COPY FROM STDIN in progress is not idle, even with the batch's Sync swallowed by the copy.
    @Test func copyInProgressIsNotIdle() {
        var session = ClientSession.linked(to: s1, mode: .transaction, status: .inTransaction)
        for type in [MessageType.parse, MessageType.bind, MessageType.execute, MessageType.sync] {
            _ = session.clientMessage(type, now: ContinuousClock.now)
        }
        session.copyInStarted()  // the Sync is ignored by PostgreSQL during the copy: nothing pending
        #expect(!session.isIdleInTransaction)
        _ = session.clientMessage(.copyData, now: ContinuousClock.now)
        #expect(!session.isIdleInTransaction)
    }
}
