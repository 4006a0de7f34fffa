import PostgresWire
import SpillwayCore

/// What the leak guard does to a client on the engine, on the client's loop.
extension ClientDriver {
    /// Takes back the server of a client idle inside its transaction: FATAL 25P03 naming why, the transaction
    /// rolled back on the server, the server back to the pool, the client closed.
    func reclaim(idleFor: Duration, reason: ReclaimReason) {
        guard let pool else { return }
        let idle = SecondsText.of(idleFor)
        let message: String
        let detail: String
        switch reason {
        case .timeout(let limit):
            message = "terminating connection due to idle-in-transaction timeout"
            detail = "The client was idle inside a transaction for \(idle) s; idle_transaction_timeout is "
                + "\(SecondsText.of(limit)) s. Spillway rolled the transaction back and returned its server to the pool."
        case .contention(let limit, let key):
            message = "terminating connection: idle in transaction while other clients waited for a server"
            detail = "The client was idle inside a transaction for \(idle) s while clients waited for pool \(key) "
                + "and more than max_idle_transaction_servers (\(limit)) of its servers were idle in transactions. "
                + "Spillway rolled the transaction back and gave the server to a waiting client."
        }
        if let row = leakRow(now: loop.nanos, kind: "reclaimed") {
            shards.plane.recordReclaimed(row, application: tag.application)
        }
        logger.warning("leak guard reclaimed a server", metadata: [
            "reason": "\(reason.logName)", "idle_in_transaction_s": "\(idle)", "pool": "\(pool)",
            "last_statement": "\(lastStatementForLog)",
        ])
        fatal(.idleInTransactionSessionTimeout, message, detail: detail,
            hint: "Commit or roll back promptly; do not keep a transaction open while doing other work.")
    }

    /// client_idle_timeout: the client sent nothing for that long.
    func idleTimedOut(after limit: Double) {
        logger.info("client idle too long", metadata: ["client_idle_timeout_s": "\(SecondsText.of(limit))"])
        fatal(.adminShutdown, "terminating connection due to client_idle_timeout",
            detail: "The client sent nothing for \(SecondsText.of(limit)) s.")
    }

    /// query_timeout: the request has run for that long; its cancel goes to the server (the client gets 57014).
    func queryTimedOut(after limit: Double) {
        logger.info("query ran too long; canceling it", metadata: ["query_timeout_s": "\(SecondsText.of(limit))"])
    }

    /// One warning line for a client idle inside a transaction past leak_warn_after, with what an operator
    /// needs to find it: application, user, database, address, how long connected / in transaction / idle,
    /// and the start of its last statement (no parameter values).
    func reportSuspectedLeak(idleFor: Duration) {
        let facts = leakFacts(now: loop.nanos)
        logger.warning("suspected leak: client idle in transaction", metadata: [
            "connected_s": "\(facts.connected)", "in_transaction_s": "\(facts.inTransaction)",
            "idle_s": "\(SecondsText.of(idleFor))", "last_statement": "\(lastStatementForLog)",
        ])
    }

    /// This client's SHOW LEAKS row, or nil if it is not idle in a transaction.
    func leakRow(now: UInt64, kind: String = "idle_in_transaction") -> [String?]? {
        guard idleInTransaction(at: now) != nil else { return nil }
        let facts = leakFacts(now: now)
        return [
            kind, tag.application, user, databaseName, peerHost, peerHost == "unix" ? nil : "\(peerPort)",
            "\(id)", facts.connected, facts.inTransaction, facts.idle, lastStatementForLog,
        ]
    }
}
