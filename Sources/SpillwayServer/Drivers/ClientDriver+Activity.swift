import NIOCore
import PostgresWire
import SpillwayCore
import SpillwayEngine

/// What a client on the engine is doing, kept in three words: when its last request began (0: none runs),
/// when it last settled (ReadyForQuery), and, only while a transaction is open, a small box with the
/// transaction's start and its last statement. The leak guard, the client timeouts, SHOW LEAKS and the
/// pool's statistics read them on the client's loop.
extension ClientDriver {
    /// A request begins (the first message after ReadyForQuery); inside a transaction, the client's idle
    /// stretch there ends and counts toward its standing.
    @inline(__always)
    func requestStarted() {
        guard requestAt == 0 else { return }
        requestAt = loop.nanos
        if openTransaction != nil { record.requestStarted(idleInTransactionSince: readyAt, at: requestAt) }
    }

    /// A Query or Parse sent inside an open transaction: its start is kept for leak reports (copied, so the
    /// loop's read buffer is not held). Statements outside transactions are not kept: nothing reports them.
    @inline(__always)
    func noteStatement(_ type: MessageType, body: ByteBuffer) {
        guard let open = openTransaction else { return }
        let kept = body.getSlice(at: body.readerIndex, length: min(body.readableBytes, Self.statementBytesKept)) ?? body
        // The transaction's buffer is reused statement after statement (one allocation per transaction).
        open.lastStatement.clear()
        open.lastStatement.writeImmutableBuffer(kept)
        open.lastStatementType = type
    }

    /// ReadyForQuery was forwarded: the request ends, the statistics of the client's pool on this loop count it,
    /// and a transaction opens or ends.
    @inline(__always)
    func settled(_ status: TransactionStatus) {
        let now = loop.nanos
        if let site {
            site.stats.totals.queries &+= 1
            if requestAt != 0 { site.stats.totals.queryMicros &+= Self.micros(from: requestAt, to: now) }
            if status == .idle {
                site.stats.totals.transactions &+= 1
                let start = openTransaction?.startedAt ?? requestAt
                if start != 0 { site.stats.totals.transactionMicros &+= Self.micros(from: start, to: now) }
            }
        }
        if status == .idle {
            record.transactionEnded(slowAfter: Self.slowRelease)
            openTransaction = nil
        } else if openTransaction == nil {
            openTransaction = OpenTransaction(startedAt: requestAt != 0 ? requestAt : now)
        }
        requestAt = 0
        readyAt = now
    }

    /// How long the client has sat idle inside its transaction, holding its server; nil when it does not.
    func idleInTransaction(at now: UInt64) -> Duration? {
        guard case .ready = phase, server != nil, requestAt == 0, session.isIdleInTransaction else { return nil }
        return .nanoseconds(Int64(clamping: now &- readyAt))
    }

    /// The first 200 characters of the last statement's text in the open transaction (no parameter values:
    /// Parse carries `$1`).
    var lastStatementForLog: String {
        guard let open = openTransaction, open.lastStatement.readableBytes > 0 else { return "" }
        var body = open.lastStatement
        if open.lastStatementType == .parse { _ = body.readNullTerminatedString() }  // the statement name
        let text = body.readNullTerminatedString() ?? body.readString(length: body.readableBytes) ?? ""
        return String(text.prefix(200))
    }

    /// How long connected, in the current transaction, and idle in it, in seconds with one decimal.
    func leakFacts(now: UInt64) -> (connected: String, inTransaction: String, idle: String) {
        let connected = SecondsText.of(loop.now - connectedAt)
        let inTransaction = openTransaction.map { SecondsText.of(.nanoseconds(Int64(clamping: now &- $0.startedAt))) } ?? "0"
        let idle = idleInTransaction(at: now).map(SecondsText.of) ?? "0"
        return (connected, inTransaction, idle)
    }

    static let statementBytesKept = 512
    /// A transaction idle inside for this long at once counts against the client's standing.
    static let slowRelease: UInt64 = 1_000_000_000

    @inline(__always)
    static func micros(from start: UInt64, to end: UInt64) -> UInt64 {
        end > start ? (end - start) / 1_000 : 0
    }
}

/// An open transaction of one client: allocated when ReadyForQuery first reports one, dropped when it ends, so
/// clients outside transactions carry nothing.
final class OpenTransaction {
    let startedAt: UInt64
    var lastStatement = ByteBuffer()
    var lastStatementType = MessageType.query
    /// leak_warn_after was reported for this transaction.
    var reported = false

    init(startedAt: UInt64) {
        self.startedAt = startedAt
    }
}
