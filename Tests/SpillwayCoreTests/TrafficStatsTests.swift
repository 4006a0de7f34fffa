import PostgresWire
import SpillwayCore
import Testing

/// The counters behind SHOW STATS and /metrics, with injected times (nanoseconds).
@Suite struct TrafficStatsTests {
    /// A transaction of two requests: the transaction's time runs from the first request to the idle
    /// ReadyForQuery, each query's from its first message to its ReadyForQuery.
    @Test func transactionAndQueryTimes() {
        var traffic = ClientTraffic()
        traffic.waitStarted(at: 1_000)
        #expect(traffic.assigned(at: 501_000) == 500_000)
        traffic.requestSent(at: 1_000_000)
        traffic.requestSent(at: 1_500_000)  // a second message of the same request changes nothing
        traffic.readyForQuery(.inTransaction, at: 3_000_000)
        #expect(traffic.isBetweenRequests)
        traffic.requestSent(at: 10_000_000)
        traffic.readyForQuery(.idle, at: 11_000_000)
        traffic.received(120)
        traffic.sent(4_000)
        let stats = traffic.take(at: 12_000_000)
        #expect(stats.queries == 2)
        #expect(stats.transactions == 1)
        #expect(stats.queryMicros == 2_000 + 1_000)
        #expect(stats.transactionMicros == 10_000)
        #expect(stats.waitMicros == 500)
        #expect(stats.assignments == 1)
        #expect(stats.bytesReceived == 120 && stats.bytesSent == 4_000)
        #expect(traffic.pending.isEmpty, "take() starts the counters again")
    }

    /// Counters are due for hand-over once a second, and only when there is something to hand over.
    @Test func handOverIsDueOncePerSecond() {
        var traffic = ClientTraffic()
        _ = traffic.take(at: 5_000_000_000)
        #expect(!traffic.isDue(at: 7_000_000_000), "nothing to hand over")
        traffic.received(1)
        #expect(!traffic.isDue(at: 5_500_000_000))
        #expect(traffic.isDue(at: 6_000_000_000))
    }

    /// Averages over a period: rates per second, times per event; a period with no events averages zero.
    @Test func periodAverages() {
        var pool = PoolStats()
        var first = TrafficStats()
        first.transactions = 600
        first.queries = 1_200
        first.transactionMicros = 600 * 250
        first.queryMicros = 1_200 * 100
        first.waitMicros = 300 * 40
        first.assignments = 300
        first.bytesReceived = 60_000
        pool.totals.add(first)
        pool.closePeriod(seconds: 60)
        let averages = pool.averages
        #expect(averages.transactionsPerSecond == 10)
        #expect(averages.queriesPerSecond == 20)
        #expect(averages.bytesReceivedPerSecond == 1_000)
        #expect(averages.transactionMicros == 250)
        #expect(averages.queryMicros == 100)
        #expect(averages.waitMicros == 40)
        pool.closePeriod(seconds: 60)
        #expect(pool.averages == TrafficAverages(), "a quiet period averages zero")
        #expect(pool.totals.transactions == 600, "totals never go back")
    }

    @Test func durationsBecomeWholeMicroseconds() {
        #expect(TrafficStats.micros(.milliseconds(1500)) == 1_500_000)
        #expect(TrafficStats.micros(.nanoseconds(1999)) == 1)
        #expect(TrafficStats.micros(.seconds(-1)) == 0)
    }
}
