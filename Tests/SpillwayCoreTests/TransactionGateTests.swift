import Testing

@testable import SpillwayCore

/// The transaction gate: while the pool's servers sit stalled in transactions up to
/// max_idle_transaction_servers, a new transaction waits and statements outside transactions are served;
/// nobody is reclaimed before idle_transaction_reclaim_after.
@Suite struct TransactionGateTests {
    private func machine(poolSize: Int) -> PoolStateMachine {
        let box = Box()
        return PoolStateMachine(
            key: PoolKey(database: "app", user: "u"), limits: .init(poolSize: poolSize), loops: 1,
            nextServer: { box.next() })
    }

    final class Box: @unchecked Sendable {
        var value: UInt64 = 0
        func next() -> ServerID {
            value += 1
            return ServerID(value)
        }
    }

    /// BEGIN, START TRANSACTION and their comments and cases open a transaction; other statements do not.
    @Test(arguments: [
        ("BEGIN", true), ("begin;", true), ("  -- job\n  Begin ISOLATION LEVEL SERIALIZABLE", true),
        ("/* a /* nested */ comment */ start  transaction", true), ("START TRANSACTION READ ONLY", true),
        ("SELECT 1", false), ("beginning", false), ("START", false), ("start replication", false), ("", false),
        ("COMMIT", false), ("; BEGIN", true),
    ])
    func recognisesTransactionStarts(text: String, opens: Bool) {
        #expect(TransactionStart.opens(Array(text.utf8)) == opens)
    }

    /// With the gate closed, a waiter opening a transaction is passed over by a statement, and one that comes
    /// with an idle server available still waits.
    @Test func closedGateHoldsTransactionsAndServesStatements() {
        var pool = machine(poolSize: 2)
        let now = ContinuousClock.now
        #expect(pool.limits.maxIdleTransactionServers == 1)
        pool.stalledTransactionHolders = 1
        #expect(pool.transactionGateClosed)
        let job = ClientTag(client: ClientID(1), loop: 0, application: "app", opensTransaction: true)
        // No server yet: the job's transaction waits and opens nothing.
        #expect(pool.acquire(job, now: now, capacity: 10) == .wait)
        let api = ClientTag(client: ClientID(2), loop: 0, application: "app")
        guard case .openAndWait(let server, _) = pool.acquire(api, now: now, capacity: 10) else {
            Issue.record("the statement should get a server opened for it")
            return
        }
        // The new server goes to the statement, though the transaction waited longer.
        #expect(pool.serverReady(server, now: now + .milliseconds(5)) == .assign(server, to: api))
        #expect(pool.waiters.waiting.map(\.tag.client) == [ClientID(1)])
        // Gate open again: the transaction is served.
        pool.stalledTransactionHolders = 0
        #expect(!pool.transactionGateClosed)
    }
}
