import PostgresWire
import SpillwayCore

/// What the leak guard does to a client, on the client's loop.
extension ClientConnection {
    /// Takes back the server of a client idle inside its transaction: FATAL 25P03 naming why, the
    /// transaction rolled back on the server, the server back to the pool, the client closed. If the client is
    /// no longer idle (a statement arrived meanwhile), it keeps its server.
    func reclaim(_ serverID: ServerID, idleFor: Duration, reason: PoolExecutor.ReclaimReason) {
        guard case .ready = phase, let server = linkedServer, server.id == serverID, session.isIdleInTransaction,
              let pool
        else {
            if let pool { executor.reclaimAbandoned(serverID, key: pool) }
            return
        }
        let idle = Self.seconds(idleFor)
        let message: String
        let detail: String
        switch reason {
        case .timeout(let limit):
            message = "terminating connection due to idle-in-transaction timeout"
            detail = "The client was idle inside a transaction for \(idle) s; idle_transaction_timeout is "
                + "\(Self.seconds(limit)) s. Spillway rolled the transaction back and returned its server to the pool."
        case .contention(let limit, let key):
            message = "terminating connection: idle in transaction while other clients waited for a server"
            detail = "The client was idle inside a transaction for \(idle) s while clients waited for pool \(key) "
                + "and more than max_idle_transaction_servers (\(limit)) of its servers were idle in transactions. "
                + "Spillway rolled the transaction back and gave the server to a waiting client."
        }
        if let row = leakRow(now: PoolExecutor.nanos(), kind: "reclaimed") {
            executor.recordReclaimed(row, application: tag.application)
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
        guard case .ready = phase, linkedServer == nil || !session.isIdleInTransaction else { return }
        guard case .idle(let since) = ClientActivity(word: activity.load(ordering: .relaxed)),
              PoolExecutor.nanos() &- since >= UInt64(limit * 1e9)
        else { return }
        logger.info("client idle too long", metadata: ["client_idle_timeout_s": "\(Self.seconds(limit))"])
        fatal(.adminShutdown, "terminating connection due to client_idle_timeout",
              detail: "The client sent nothing for \(Self.seconds(limit)) s.")
    }

    /// query_timeout: the request has run for that long: cancel it on the server (the client gets 57014).
    func queryTimedOut(after limit: Double) {
        guard case .ready = phase, let server = linkedServer,
              case .busy(let since) = ClientActivity(word: activity.load(ordering: .relaxed)),
              PoolExecutor.nanos() &- since >= UInt64(limit * 1e9)
        else { return }
        logger.info("query ran too long; canceling it", metadata: ["query_timeout_s": "\(Self.seconds(limit))"])
        executor.cancelRunningQuery(on: server, for: self)
    }

    /// A duration as seconds with one decimal.
    static func seconds(_ duration: Duration) -> String { SecondsText.of(duration) }

    static func seconds(_ value: Double) -> String { SecondsText.of(value) }
}

extension PoolExecutor.ReclaimReason {
    var logName: String {
        switch self {
        case .contention: "max_idle_transaction_servers"
        case .timeout: "idle_transaction_timeout"
        }
    }
}

extension ClientConnection {
    /// One warning line for a client idle inside a transaction past leak_warn_after, with what an operator
    /// needs to find it: application, user, database, address, how long connected / in transaction / idle,
    /// and the start of its last statement (no parameter values).
    func reportSuspectedLeak(idleFor: Duration) {
        guard case .ready = phase else { return }
        let facts = leakFacts(now: PoolExecutor.nanos())
        logger.warning("suspected leak: client idle in transaction", metadata: [
            "connected_s": "\(facts.connected)", "in_transaction_s": "\(facts.inTransaction)",
            "idle_s": "\(Self.seconds(idleFor))", "last_statement": "\(lastStatementForLog)",
        ])
    }

    /// How long connected, in the current transaction, and idle, in seconds with one decimal.
    func leakFacts(now: UInt64) -> (connected: String, inTransaction: String, idle: String) {
        let connected = Self.seconds(ContinuousClock.now - connectedAt)
        let inTransaction = traffic.transactionStartedAt.map {
            Self.seconds(.nanoseconds(Int64(clamping: now > $0 ? now - $0 : 0)))
        } ?? "0"
        let idle = ClientActivity(word: activity.load(ordering: .relaxed)).idleInTransaction(at: now)
            .map(Self.seconds) ?? "0"
        return (connected, inTransaction, idle)
    }
}
