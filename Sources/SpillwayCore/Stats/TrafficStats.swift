/// What went through one pool (or one client, before it is added to its pool): PgBouncer's `SHOW STATS`
/// counters. Times are microseconds, bytes are what clients sent (received) and were sent (sent).
public struct TrafficStats: Sendable, Equatable {
    /// Transactions finished (ReadyForQuery with status idle).
    public var transactions: UInt64 = 0
    /// Requests answered (every ReadyForQuery).
    public var queries: UInt64 = 0
    /// Bytes received from clients.
    public var bytesReceived: UInt64 = 0
    /// Bytes sent to clients.
    public var bytesSent: UInt64 = 0
    /// Time inside transactions, idle-in-transaction included.
    public var transactionMicros: UInt64 = 0
    /// Time from a request's first message to its ReadyForQuery.
    public var queryMicros: UInt64 = 0
    /// Time clients waited for a server.
    public var waitMicros: UInt64 = 0
    /// Times a client was given a server (the denominator of the average wait).
    public var assignments: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { self == TrafficStats() }

    public mutating func add(_ other: TrafficStats) {
        transactions &+= other.transactions
        queries &+= other.queries
        bytesReceived &+= other.bytesReceived
        bytesSent &+= other.bytesSent
        transactionMicros &+= other.transactionMicros
        queryMicros &+= other.queryMicros
        waitMicros &+= other.waitMicros
        assignments &+= other.assignments
    }

    /// `self - earlier`, counter by counter (for averages over a stats period).
    public func since(_ earlier: TrafficStats) -> TrafficStats {
        var delta = TrafficStats()
        delta.transactions = transactions &- earlier.transactions
        delta.queries = queries &- earlier.queries
        delta.bytesReceived = bytesReceived &- earlier.bytesReceived
        delta.bytesSent = bytesSent &- earlier.bytesSent
        delta.transactionMicros = transactionMicros &- earlier.transactionMicros
        delta.queryMicros = queryMicros &- earlier.queryMicros
        delta.waitMicros = waitMicros &- earlier.waitMicros
        delta.assignments = assignments &- earlier.assignments
        return delta
    }

    /// Whole microseconds of a duration (negative durations count as zero).
    @inline(__always)
    public static func micros(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000 &+ UInt64(attoseconds / 1_000_000_000_000)
    }
}

/// PgBouncer's `SHOW STATS_AVERAGES` for one stats period: rates per second and times per event.
public struct TrafficAverages: Sendable, Equatable {
    public var transactionsPerSecond: UInt64 = 0
    public var queriesPerSecond: UInt64 = 0
    public var bytesReceivedPerSecond: UInt64 = 0
    public var bytesSentPerSecond: UInt64 = 0
    /// Average microseconds per transaction, per query, per wait.
    public var transactionMicros: UInt64 = 0
    public var queryMicros: UInt64 = 0
    public var waitMicros: UInt64 = 0

    public init() {}

    /// The averages of what happened in `delta` over `seconds` (at least 1).
    public init(delta: TrafficStats, seconds: UInt64) {
        let seconds = max(seconds, 1)
        transactionsPerSecond = delta.transactions / seconds
        queriesPerSecond = delta.queries / seconds
        bytesReceivedPerSecond = delta.bytesReceived / seconds
        bytesSentPerSecond = delta.bytesSent / seconds
        transactionMicros = delta.transactions == 0 ? 0 : delta.transactionMicros / delta.transactions
        queryMicros = delta.queries == 0 ? 0 : delta.queryMicros / delta.queries
        waitMicros = delta.assignments == 0 ? 0 : delta.waitMicros / delta.assignments
    }
}

/// Totals of a pool plus what happened in the last complete stats period.
public struct PoolStats: Sendable, Equatable {
    public var totals = TrafficStats()
    /// The traffic of the last complete period and its length in seconds (0 before the first one ends).
    public private(set) var lastPeriod = TrafficStats()
    public private(set) var lastPeriodSeconds: UInt64 = 0
    /// Totals at the start of the current period.
    private var periodStart = TrafficStats()

    public init() {}

    /// The averages of the last complete period.
    public var averages: TrafficAverages { TrafficAverages(delta: lastPeriod, seconds: lastPeriodSeconds) }

    /// Adds another part of the same pool (another loop's shard): totals and periods sum, the period's length
    /// is the longer one.
    public mutating func merge(_ other: PoolStats) {
        totals.add(other.totals)
        lastPeriod.add(other.lastPeriod)
        lastPeriodSeconds = max(lastPeriodSeconds, other.lastPeriodSeconds)
        periodStart.add(other.periodStart)
    }

    /// Closes a stats period of `seconds`: the last period becomes the one just ended.
    public mutating func closePeriod(seconds: UInt64) {
        lastPeriod = totals.since(periodStart)
        lastPeriodSeconds = max(seconds, 1)
        periodStart = totals
    }
}
