import PostgresWire
import Testing

@testable import SpillwayCore

@Suite struct ClientActivityTests {
    /// The largest instant a word can carry: 62 bits of nanoseconds (over 146 years of uptime).
    static let largest: UInt64 = (1 << 62) - 1

    static let everyCase: [ClientActivity] = [
        .unknown,
        .busy(since: 0), .idle(since: 0), .idleInTransaction(since: 0),
        .busy(since: 1), .idle(since: 1), .idleInTransaction(since: 1),
        .busy(since: 1_700_000_000_123_456_789), .idle(since: 1_700_000_000_123_456_789),
        .idleInTransaction(since: 1_700_000_000_123_456_789),
        .busy(since: largest), .idle(since: largest), .idleInTransaction(since: largest),
    ]

    // MARK: ClientActivity

    /// Every activity survives packing into a word and back, down to the nanosecond, up to 62-bit instants.
    @Test(arguments: everyCase)
    func wordRoundTrip(_ activity: ClientActivity) {
        #expect(ClientActivity(word: activity.word) == activity)
    }

    /// Different activities at the same instant, and the same activity at different instants, pack differently.
    @Test func wordsAreDistinct() {
        let words = Self.everyCase.map(\.word)
        #expect(Set(words).count == words.count)
        #expect(ClientActivity.unknown.word == 0)
        #expect(ClientActivity(word: 0) == .unknown)
        #expect(ClientActivity(word: 4) == .unknown)  // an instant without a kind is nothing published
    }

    /// How long a client has been idle in its transaction: nanoseconds since it became so; zero if the reader's
    /// clock is behind the writer's; nil when it is doing anything else.
    @Test func idleInTransactionAt() {
        let since: UInt64 = 1_700_000_000_000_000_000
        let activity = ClientActivity(word: ClientActivity.idleInTransaction(since: since).word)
        #expect(activity.idleInTransaction(at: since + 100_000_000) == .milliseconds(100))
        #expect(activity.idleInTransaction(at: since + 342_000_000_007) == .seconds(342) + .nanoseconds(7))
        #expect(activity.idleInTransaction(at: since) == .zero)
        #expect(activity.idleInTransaction(at: since - 5) == .zero)
        #expect(
            ClientActivity.idleInTransaction(since: 0).idleInTransaction(at: Self.largest)
                == .nanoseconds(Int64(Self.largest)))

        #expect(ClientActivity.busy(since: 0).idleInTransaction(at: since) == nil)
        #expect(ClientActivity.idle(since: 0).idleInTransaction(at: since) == nil)
        #expect(ClientActivity.unknown.idleInTransaction(at: since) == nil)
    }

    // MARK: ReleaseRecord

    /// A new client has no record: standing new.
    @Test func newRecordIsNew() {
        let record = ReleaseRecord()
        #expect(record.standing == .new)
        #expect(record.prompt == 0 && record.slow == 0 && record.longestIdle == 0)
    }

    /// A request after an idle-in-transaction stretch records the stretch; the longest one in the transaction
    /// counts; requests after other activity, or from a clock behind, record nothing.
    @Test func requestStartedRecordsLongestIdleStretch() {
        var record = ReleaseRecord()
        record.requestStarted(after: .idleInTransaction(since: 1_000), at: 51_000)
        #expect(record.longestIdle == 50_000)
        record.requestStarted(after: .idleInTransaction(since: 60_000), at: 70_000)
        #expect(record.longestIdle == 50_000)
        record.requestStarted(after: .busy(since: 0), at: 1_000_000)
        record.requestStarted(after: .idle(since: 0), at: 1_000_000)
        record.requestStarted(after: .unknown, at: 1_000_000)
        record.requestStarted(after: .idleInTransaction(since: 2_000_000), at: 1_000_000)
        #expect(record.longestIdle == 50_000)
    }

    /// Standing moves with the record: new → proven after a prompt transaction, → suspect once slow ones
    /// outnumber prompt ones, → proven again when prompt ones catch up.
    @Test func standingTransitions() {
        let slowAfter: UInt64 = 1_000_000_000  // 1 s idle inside a transaction is slow
        var record = ReleaseRecord()

        record.requestStarted(after: .idleInTransaction(since: 0), at: 5_000_000)  // 5 ms: prompt
        record.transactionEnded(slowAfter: slowAfter)
        #expect(record.prompt == 1 && record.slow == 0)
        #expect(record.longestIdle == 0)
        #expect(record.standing == .proven)

        for _ in 0..<2 {
            record.requestStarted(after: .idleInTransaction(since: 0), at: slowAfter)  // exactly 1 s: slow
            record.transactionEnded(slowAfter: slowAfter)
            #expect(record.longestIdle == 0, "the next transaction starts with a clean slate")
        }
        #expect(record.prompt == 1 && record.slow == 2)
        #expect(record.standing == .suspect)

        record.transactionEnded(slowAfter: slowAfter)  // no idle stretch at all: prompt
        #expect(record.prompt == 2 && record.slow == 2)
        #expect(record.standing == .proven)
    }

    /// A slow transaction as the very first one makes a new client suspect straight away.
    @Test func firstSlowTransactionMakesSuspect() {
        var record = ReleaseRecord()
        record.requestStarted(after: .idleInTransaction(since: 10), at: 10 + 30_000_000_000)
        record.transactionEnded(slowAfter: 1_000_000_000)
        #expect(record.standing == .suspect)
    }

    /// Counters stop at their maximum instead of overflowing on a long-lived client.
    @Test func countersSaturate() {
        var record = ReleaseRecord()
        for _ in 0...Int(UInt16.max) { record.transactionEnded(slowAfter: 1) }
        #expect(record.prompt == .max)
        for _ in 0...Int(UInt16.max) {
            record.requestStarted(after: .idleInTransaction(since: 0), at: 10)
            record.transactionEnded(slowAfter: 1)
        }
        #expect(record.slow == .max)
        #expect(record.standing == .proven)
    }

    // MARK: ClientSession.isIdleInTransaction

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
