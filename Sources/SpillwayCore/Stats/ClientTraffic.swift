import PostgresWire

/// One client's traffic since it last handed its counters to its pool, and the clocks of what is in progress.
/// Times are monotonic nanoseconds (any fixed origin; 0 means "not running"), kept as plain integers so the
/// forwarding path pays a compare and an add.
public struct ClientTraffic: Sendable {
    public private(set) var pending = TrafficStats()
    private var queryStart: UInt64 = 0
    private var transactionStart: UInt64 = 0
    private var waitStart: UInt64 = 0
    private var lastFlush: UInt64 = 0

    public init() {}

    /// When the current transaction began (its first request), or nil outside one.
    public var transactionStartedAt: UInt64? { transactionStart == 0 ? nil : transactionStart }

    /// True when no request is running: the next message sent starts one (and `requestSent` needs the time).
    @inline(__always)
    public var isBetweenRequests: Bool { queryStart == 0 }

    /// A message went to the server at `now`: starts the request's clock, and the transaction's if none runs.
    @inline(__always)
    public mutating func requestSent(at now: UInt64) {
        guard queryStart == 0 else { return }
        queryStart = max(now, 1)
        if transactionStart == 0 { transactionStart = queryStart }
    }

    /// The server answered ReadyForQuery with `status` at `now`.
    public mutating func readyForQuery(_ status: TransactionStatus, at now: UInt64) {
        pending.queries &+= 1
        if queryStart != 0 {
            pending.queryMicros &+= Self.micros(from: queryStart, to: now)
            queryStart = 0
        }
        if status == .idle {
            pending.transactions &+= 1
            if transactionStart != 0 {
                pending.transactionMicros &+= Self.micros(from: transactionStart, to: now)
                transactionStart = 0
            }
        }
    }

    /// The client started waiting for a server.
    public mutating func waitStarted(at now: UInt64) {
        waitStart = max(now, 1)
    }

    /// The client got its server at `now`; the wait, if one ran, ends. Returns the wait in nanoseconds.
    @discardableResult
    public mutating func assigned(at now: UInt64) -> UInt64 {
        pending.assignments &+= 1
        guard waitStart != 0 else { return 0 }
        let waited = now > waitStart ? now - waitStart : 0
        pending.waitMicros &+= waited / 1_000
        waitStart = 0
        return waited
    }

    @inline(__always)
    public mutating func received(_ bytes: Int) {
        pending.bytesReceived &+= UInt64(truncatingIfNeeded: bytes)
    }

    @inline(__always)
    public mutating func sent(_ bytes: Int) {
        pending.bytesSent &+= UInt64(truncatingIfNeeded: bytes)
    }

    /// The counters gathered so far, which start again from zero.
    public mutating func take(at now: UInt64) -> TrafficStats {
        lastFlush = now
        defer { pending = TrafficStats() }
        return pending
    }

    /// True when counters are waiting and the last hand-over is older than `interval` nanoseconds (a client that
    /// keeps its server, as in session mode, still shows up in the stats while it works).
    public func isDue(at now: UInt64, interval: UInt64 = 1_000_000_000) -> Bool {
        !pending.isEmpty && now &- lastFlush >= interval
    }

    @inline(__always)
    static func micros(from start: UInt64, to end: UInt64) -> UInt64 {
        end > start ? (end - start) / 1_000 : 0
    }
}
