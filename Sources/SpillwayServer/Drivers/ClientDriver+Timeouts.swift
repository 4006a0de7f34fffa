import NIOCore
import PostgresWire
import SpillwayCore

/// transaction_timeout and query_wait_notify on the engine: a timer armed only while a transaction is open,
/// and a notice sent once per long wait (found by the loop's upkeep, not by a timer per wait).
extension ClientDriver {
    // MARK: transaction_timeout

    /// ReadyForQuery said the client is inside a transaction: the clock starts once per transaction.
    func armTransactionTimeout() {
        let seconds = runtime.settings.transactionTimeout
        guard seconds > 0, transactionTimer == nil else { return }
        transactionTimer = loop.schedule(at: loop.now + .milliseconds(Int64(seconds * 1000))) { [self] in
            self.transactionTimer = nil
            self.transactionTimedOut(seconds)
        }
    }

    /// The transaction ended, or the client left.
    func disarmTransactionTimeout() {
        if let timer = transactionTimer {
            loop.cancel(timer)
            transactionTimer = nil
        }
    }

    /// FATAL 25P04 and close; the server, mid-transaction and perhaps mid-query, is closed rather than reused.
    private func transactionTimedOut(_ seconds: Double) {
        guard case .ready = phase else { return }
        logger.warning("transaction ran longer than transaction_timeout; closing the client and its server",
            metadata: ["timeout_s": "\(seconds)"])
        if let server {
            self.server = nil
            _ = session.clientClosed()
            shards.release(server, statements: [], reusable: false)
        }
        fatal(.transactionTimeout, "terminating connection due to transaction_timeout",
            detail: "The transaction was open longer than transaction_timeout = \(SecondsText.of(seconds)) s; it was rolled back.")
    }

    // MARK: query_wait_notify

    /// Upkeep found this client waiting longer than query_wait_notify: tell it, once per wait.
    func waitedLong() {
        guard !waitNoticeSent, case .ready = phase, case .waiting = session.state else { return }
        waitNoticeSent = true
        let pool = self.pool.map { "\($0)" } ?? "?"
        connection.write { buffer in
            ErrorResponse(
                severity: .notice, code: .warning,
                message: "waiting for a server connection (query_wait_notify)",
                detail: "Every server of pool \(pool) is in use; the query runs when one is free, or fails after "
                    + "query_wait_timeout."
            ).encode(into: &buffer, type: .noticeResponse)
        }
    }
}
