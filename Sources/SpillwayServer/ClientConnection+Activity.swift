import CoreMetrics
import Logging
import NIOCore
import PostgresWire
import SpillwayCore
import Synchronization

/// What the client publishes about itself for upkeep on other threads and for its standing among waiters.
extension ClientConnection {
    // MARK: Activity, for the leak guard

    /// A request went to the server: the client is busy; an idle stretch inside the transaction ends.
    @inline(__always)
    func requestStarted(at now: UInt64) {
        traffic.requestSent(at: now)
        record.requestStarted(after: ClientActivity(word: publishedActivity), at: now)
        publish(.busy(since: now))
    }

    /// ReadyForQuery was forwarded and the client keeps its server: it is idle, in or out of a transaction.
    @inline(__always)
    func settled(_ status: TransactionStatus, at now: UInt64) {
        if status == .idle {
            transactionEnded()
            disarmTransactionTimeout()
            lastStatement = nil
            publish(.idle(since: now))
            flushStatsIfDue()
        } else {
            armTransactionTimeout()
            if session.isIdleInTransaction { publish(.idleInTransaction(since: now)) }
        }
    }

    func transactionEnded() {
        record.transactionEnded(slowAfter: Self.slowRelease)
    }

    /// Publishes what the client is doing for upkeep on other threads, and keeps its pool's count of
    /// idle-in-transaction holders (which decides whether reclaim is worth a look) in step.
    @inline(__always)
    func publish(_ now: ClientActivity) {
        let word = now.word
        let wasIdle = publishedActivity & 3 == 3
        let isIdle = word & 3 == 3
        if wasIdle != isIdle { poolGauges?.idleInTransactionChanged(by: isIdle ? 1 : -1) }
        publishedActivity = word
        activity.store(word, ordering: .relaxed)
    }

    /// `SET application_name`: the client belongs to that application from now on (its address when empty).
    func applicationNamed(_ value: String) {
        let application = value.isEmpty ? remoteHost : value
        guard application != tag.application else { return }
        executor.applicationChanged(id, to: application)
        tag.application = application
    }

    /// A transaction idle inside for this long at once counts against the client's standing.
    static let slowRelease: UInt64 = 1_000_000_000
}
