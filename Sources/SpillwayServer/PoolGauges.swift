import Synchronization

/// Counters of one pool that its clients keep up to date from their own event loops without the pool's lock.
final class PoolGauges: Sendable {
    /// Clients of the pool sitting idle inside a transaction with a server: only when this passes
    /// max_idle_transaction_servers is the (locked) reclaim check worth running.
    private let idleInTransaction = Atomic<Int>(0)

    func idleInTransactionChanged(by delta: Int) {
        idleInTransaction.add(delta, ordering: .relaxed)
    }

    var idleInTransactionCount: Int { idleInTransaction.load(ordering: .relaxed) }
}
