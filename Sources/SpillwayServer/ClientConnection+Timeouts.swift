import NIOCore
import PostgresWire
import SpillwayCore

/// transaction_timeout and query_wait_notify: timers a client arms only while they can fire (a transaction in
/// progress, a wait for a server), so a client that uses neither costs nothing.
extension ClientConnection {
    // MARK: transaction_timeout

    /// ReadyForQuery said the client is inside a transaction: starts the clock once per transaction.
    func armTransactionTimeout() {
        let seconds = runtime.settings.transactionTimeout
        guard seconds > 0, transactionTimer == nil else { return }
        transactionTimer = loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [self] in
            transactionTimer = nil
            transactionTimedOut(seconds)
        }
    }

    /// The transaction ended (ReadyForQuery 'I') or the client left.
    func disarmTransactionTimeout() {
        transactionTimer?.cancel()
        transactionTimer = nil
    }

    /// FATAL 25P04 and close; the server, mid-transaction and perhaps mid-query, is closed rather than reused.
    private func transactionTimedOut(_ seconds: Double) {
        guard case .ready = phase else { return }
        logger.warning("transaction ran longer than transaction_timeout; closing the client and its server",
                       metadata: ["timeout_s": "\(seconds)"])
        if let server = linkedServer {
            linkedServer = nil
            _ = session.clientClosed()
            executor.release(server, from: self, statements: [], reusable: false)
        }
        fatal(.transactionTimeout, "terminating connection due to transaction_timeout",
              detail: "The transaction was open longer than transaction_timeout = \(seconds) s; it was rolled back.")
    }

    // MARK: query_wait_notify

    /// The client starts waiting for a server: a notice may be sent once during this wait. No timer: upkeep's
    /// once-a-second pass finds waiters past query_wait_notify (a timer per wait would cost every transaction
    /// of a saturated pool).
    func armWaitNotice() {
        waitNoticeSent = false
    }

    func disarmWaitNotice() {
        waitNoticeSent = true
    }

    /// Upkeep found this client waiting longer than query_wait_notify: tell it, once per wait.
    func waitedLong() {
        guard !waitNoticeSent, case .ready = phase, case .waiting = session.state, let context else { return }
        waitNoticeSent = true
        var buffer = context.channel.allocator.buffer(capacity: 160)
        ErrorResponse(
            severity: .notice, code: .warning,
            message: "waiting for a server connection (query_wait_notify)",
            detail: "Every server of pool \(pool.map { "\($0)" } ?? "?") is in use; the query runs when one is "
                + "free, or fails after query_wait_timeout.").encode(into: &buffer, type: .noticeResponse)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
