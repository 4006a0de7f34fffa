import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus
import SpillwayCore

/// Spillway's Prometheus metrics: event metrics (waits, errors) recorded through swift-metrics as they happen,
/// and the pools' state and counters copied in from the pools when `/metrics` is scraped, so the forwarding
/// path pays nothing for them.
final class SpillwayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let started = ContinuousClock.now
    /// The series of each pool seen by the last scrape; its lock also makes scrapes run one at a time (counters
    /// are set by reset-and-add, which must not interleave).
    private let series = NIOLockedValueBox<[PoolKey: PoolSeries]>([:])
    /// The same for applications (touched only under `series`' lock).
    private let applicationSeries = NIOLockedValueBox<[String: ApplicationSeries]>([:])
    /// Applications exported at most: application_name is the client's to choose, and Prometheus suffers from
    /// unbounded label values. The ones with the most clients are kept.
    static let maxApplications = 100

    /// Wait-time buckets: from "a server was idle" to "query_wait_timeout territory".
    static let waitBuckets: [Duration] = [
        .microseconds(100), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50),
        .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10), .seconds(30),
    ]

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = ["spillway_pool_wait_seconds": Self.waitBuckets]
        self.factory = factory
    }

    /// The wait-time histogram of one pool, kept by each of its clients.
    func waitTimer(for key: PoolKey) -> CoreMetrics.Timer {
        CoreMetrics.Timer(
            label: "spillway_pool_wait_seconds", dimensions: [("database", key.database), ("user", key.user)],
            factory: factory)
    }

    /// Counts an ErrorResponse sent to a client. `origin`: "spillway" (the pooler refused or gave up) or
    /// "server" (PostgreSQL's own error, forwarded).
    func errorSent(_ code: String, origin: String) {
        CoreMetrics.Counter(
            label: "spillway_errors_total", dimensions: [("class", String(code.prefix(2))), ("origin", origin)],
            factory: factory
        ).increment()
    }

    /// The text exposition of every metric, after copying the pools' state in from `view`.
    func render(view: ConsoleView, settings: Settings, loops: Int, healthy: Bool) -> String {
        series.withLockedValue { series in
            collect(view: view, settings: settings, loops: loops, healthy: healthy, series: &series)
            return registry.emitToString()
        }
    }

    private func collect(
        view: ConsoleView, settings: Settings, loops: Int, healthy: Bool, series: inout [PoolKey: PoolSeries]
    ) {
        let reports = view.pools
        let counts = view.lists
        let process = ProcessStatus.read()

        gauge("spillway_up", "1 while Spillway accepts clients (what /healthz answers 200 to), else 0.")
            .set(healthy ? 1.0 : 0.0)
        gauge("spillway_uptime_seconds", "Seconds since Spillway started.")
            .set(Double(TrafficStats.micros(ContinuousClock.now - started)) / 1e6)
        gauge("spillway_event_loops", "I/O threads (event loops).").set(Double(loops))
        gauge("spillway_process_open_fds", "Open file descriptors of the process.").set(Double(process.openFiles))
        gauge("spillway_process_resident_memory_bytes", "Resident memory of the process in bytes.")
            .set(Double(process.residentKiB * 1024))
        gauge("spillway_client_connections", "Client connections open, admin console included.")
            .set(Double(counts.clients))
        gauge("spillway_client_connections_max", "max_client_conn.").set(Double(settings.maxClientConn))
        gauge("spillway_server_connections", "Server connections open or opening.").set(Double(counts.servers))

        var seen = Set<PoolKey>()
        for pool in reports {
            seen.insert(pool.key)
            let handles: PoolSeries
            if let existing = series[pool.key] {
                handles = existing
            } else {
                handles = PoolSeries(registry: registry, key: pool.key)
                series[pool.key] = handles
            }
            handles.update(pool)
        }
        for (key, handles) in series where !seen.contains(key) {
            handles.unregister(from: registry)
            series[key] = nil
        }
        collectApplications(view.applications)
    }

    private func collectApplications(_ reports: [ApplicationReport]) {
        let kept = reports.sorted { ($0.active + $0.idle + $0.waiting, $1.application) > ($1.active + $1.idle + $1.waiting, $0.application) }
            .prefix(Self.maxApplications)
        applicationSeries.withLockedValue { series in
            var seen = Set<String>()
            for report in kept {
                seen.insert(report.application)
                let handles = series[report.application]
                    ?? ApplicationSeries(registry: registry, application: report.application)
                series[report.application] = handles
                handles.update(report)
            }
            for (application, handles) in series where !seen.contains(application) {
                handles.unregister(from: registry)
                series[application] = nil
            }
        }
    }

    private func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
        registry.makeGauge(descriptor: metricName(name, help))
    }
}

/// The series of one pool (labels database and user), kept so a removed pool's series can be dropped.
final class PoolSeries: Sendable {
    let clients: [(state: String, gauge: Prometheus.Gauge)]
    let servers: [(state: String, gauge: Prometheus.Gauge)]
    let size: Prometheus.Gauge
    let maxWait: Prometheus.Gauge
    let transactions, queries, received, sent, assignments: Prometheus.Counter
    let transactionSeconds, querySeconds: Prometheus.Counter

    init(registry: PrometheusCollectorRegistry, key: PoolKey) {
        let labels = [("database", key.database), ("user", key.user)]
        clients = ["active", "waiting"].map { state in
            (state, registry.makeGauge(
                descriptor: metricName("spillway_pool_clients", "Clients of the pool by state."),
                labels: labels + [("state", state)]))
        }
        servers = ["active", "idle", "used", "tested", "login"].map { state in
            (state, registry.makeGauge(
                descriptor: metricName("spillway_pool_servers", "Server connections of the pool by state."),
                labels: labels + [("state", state)]))
        }
        size = registry.makeGauge(descriptor: metricName("spillway_pool_size", "Configured pool size."), labels: labels)
        maxWait = registry.makeGauge(
                descriptor: metricName("spillway_pool_max_wait_seconds", "How long the oldest waiting client has waited."), labels: labels)
        func counter(_ name: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(descriptor: metricName(name, help), labels: labels)
        }
        transactions = counter("spillway_pool_transactions_total", "Transactions finished.")
        queries = counter("spillway_pool_queries_total", "Requests answered (ReadyForQuery).")
        received = counter("spillway_pool_received_bytes_total", "Bytes received from clients.")
        sent = counter("spillway_pool_sent_bytes_total", "Bytes sent to clients.")
        assignments = counter("spillway_pool_assignments_total", "Times a client was given a server.")
        transactionSeconds = counter("spillway_pool_transaction_seconds_total", "Time spent in transactions.")
        querySeconds = counter("spillway_pool_query_seconds_total", "Time spent in queries.")
    }

    func update(_ pool: PoolReport) {
        let clientValues = ["active": pool.clients - pool.waiting, "waiting": pool.waiting]
        for (state, gauge) in clients { gauge.set(Double(clientValues[state] ?? 0)) }
        let serverValues = [
            "active": pool.active, "idle": pool.idle, "used": 0, "tested": pool.testing, "login": pool.connecting,
        ]
        for (state, gauge) in servers { gauge.set(Double(serverValues[state] ?? 0)) }
        size.set(Double(pool.poolSize))
        maxWait.set(Double(TrafficStats.micros(pool.oldestWait ?? .zero)) / 1e6)
        let totals = pool.stats.totals
        // The pools keep the totals; the counters are set to them (reset and add, under the scrape lock).
        for (counter, value) in [
            (transactions, totals.transactions), (queries, totals.queries), (received, totals.bytesReceived),
            (sent, totals.bytesSent), (assignments, totals.assignments),
        ] {
            counter.reset()
            counter.increment(by: Int64(clamping: value))
        }
        for (counter, micros) in [(transactionSeconds, totals.transactionMicros), (querySeconds, totals.queryMicros)] {
            counter.reset()
            counter.increment(by: Double(micros) / 1e6)
        }
    }

    func unregister(from registry: PrometheusCollectorRegistry) {
        for (_, gauge) in clients + servers { registry.unregisterGauge(gauge) }
        registry.unregisterGauge(size)
        registry.unregisterGauge(maxWait)
        for counter in [transactions, queries, received, sent, assignments, transactionSeconds, querySeconds] {
            registry.unregisterCounter(counter)
        }
    }
}

/// A metric name written whole (Spillway's names already end in their unit), with its help text.
func metricName(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}

/// The series of one application (label application).
final class ApplicationSeries: Sendable {
    let clients: [(state: String, gauge: Prometheus.Gauge)]
    let held: Prometheus.Gauge
    let maxWait: Prometheus.Gauge
    let suspected: Prometheus.Gauge
    let leaks: Prometheus.Counter

    init(registry: PrometheusCollectorRegistry, application: String) {
        let labels = [("application", application)]
        clients = ["active", "idle", "waiting"].map { state in
            (state, registry.makeGauge(
                descriptor: metricName("spillway_application_clients", "Client connections of the application by state."),
                labels: labels + [("state", state)]))
        }
        held = registry.makeGauge(
            descriptor: metricName("spillway_application_servers_held", "Server connections the application holds."),
            labels: labels)
        maxWait = registry.makeGauge(
            descriptor: metricName(
                "spillway_application_max_wait_seconds", "How long the application's oldest waiting client has waited."),
            labels: labels)
        suspected = registry.makeGauge(
            descriptor: metricName("spillway_application_leaks_suspected", "The application's current leak suspects."),
            labels: labels)
        leaks = registry.makeCounter(
            descriptor: metricName("spillway_application_leaks_total", "Suspected leaks seen since start."),
            labels: labels)
    }

    func update(_ report: ApplicationReport) {
        let values = ["active": report.active, "idle": report.idle, "waiting": report.waiting]
        for (state, gauge) in clients { gauge.set(Double(values[state] ?? 0)) }
        held.set(Double(report.held))
        maxWait.set(Double(TrafficStats.micros(report.maxWait ?? .zero)) / 1e6)
        suspected.set(Double(report.suspected))
        leaks.reset()
        leaks.increment(by: Int64(report.leaksTotal))
    }

    func unregister(from registry: PrometheusCollectorRegistry) {
        for (_, gauge) in clients { registry.unregisterGauge(gauge) }
        for gauge in [held, maxWait, suspected] { registry.unregisterGauge(gauge) }
        registry.unregisterCounter(leaks)
    }
}
