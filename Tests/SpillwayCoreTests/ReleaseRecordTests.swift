import Testing

@testable import SpillwayCore

/// How a client releases its servers, and the standing among waiters it earns.
@Suite struct ReleaseRecordTests {
    /// A new client has no record: standing new.
    @Test func newRecordIsNew() {
        let record = ReleaseRecord()
        #expect(record.standing == .new)
        #expect(record.prompt == 0 && record.slow == 0 && record.longestIdle == 0)
    }

    /// A request after an idle-in-transaction stretch records the stretch; the longest one in the transaction
    /// counts; requests outside a transaction, or from a clock behind, record nothing.
    @Test func requestStartedRecordsLongestIdleStretch() {
        var record = ReleaseRecord()
        record.requestStarted(idleInTransactionSince: 1_000, at: 51_000)
        #expect(record.longestIdle == 50_000)
        record.requestStarted(idleInTransactionSince: 60_000, at: 70_000)
        #expect(record.longestIdle == 50_000)
        record.requestStarted(idleInTransactionSince: nil, at: 1_000_000)
        record.requestStarted(idleInTransactionSince: 2_000_000, at: 1_000_000)
        #expect(record.longestIdle == 50_000)
    }

    /// Standing moves with the record: new → proven after a prompt transaction, → suspect once slow ones
    /// outnumber prompt ones, → proven again when prompt ones catch up.
    @Test func standingTransitions() {
        let slowAfter: UInt64 = 1_000_000_000  // 1 s idle inside a transaction is slow
        var record = ReleaseRecord()

        record.requestStarted(idleInTransactionSince: 0, at: 5_000_000)  // 5 ms: prompt
        record.transactionEnded(slowAfter: slowAfter)
        #expect(record.prompt == 1 && record.slow == 0)
        #expect(record.longestIdle == 0)
        #expect(record.standing == .proven)

        for _ in 0..<2 {
            record.requestStarted(idleInTransactionSince: 0, at: slowAfter)  // exactly 1 s: slow
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
        record.requestStarted(idleInTransactionSince: 10, at: 10 + 30_000_000_000)
        record.transactionEnded(slowAfter: 1_000_000_000)
        #expect(record.standing == .suspect)
    }

    /// Counters stop at their maximum instead of overflowing on a long-lived client.
    @Test func countersSaturate() {
        var record = ReleaseRecord()
        for _ in 0...Int(UInt16.max) { record.transactionEnded(slowAfter: 1) }
        #expect(record.prompt == .max)
        for _ in 0...Int(UInt16.max) {
            record.requestStarted(idleInTransactionSince: 0, at: 10)
            record.transactionEnded(slowAfter: 1)
        }
        #expect(record.slow == .max)
        #expect(record.standing == .proven)
    }
}
