#if canImport(Glibc)
import Glibc
#endif
import PostgresWire
import SpillwayCore

/// SHOW STATS, STATS_TOTALS, STATS_AVERAGES, TOTALS, MEM, STATE, DNS_HOSTS and DNS_ZONES: PgBouncer's columns
/// and types (numeric for the statistics), per database, from the pools' counters.
extension AdminConsole {
    /// Per database: totals, and the traffic of the last complete stats period with its length.
    struct DatabaseStats {
        var database: String
        var totals = TrafficStats()
        var lastPeriod = TrafficStats()
        var seconds: UInt64 = 0
        var averages: TrafficAverages { TrafficAverages(delta: lastPeriod, seconds: seconds) }
    }

    func databaseStats(_ view: ConsoleView) -> [DatabaseStats] {
        var byDatabase: [String: DatabaseStats] = [:]
        for pool in view.pools {
            var entry = byDatabase[pool.key.database] ?? DatabaseStats(database: pool.key.database)
            entry.totals.add(pool.stats.totals)
            entry.lastPeriod.add(pool.stats.lastPeriod)
            entry.seconds = max(entry.seconds, pool.stats.lastPeriodSeconds)
            byDatabase[pool.key.database] = entry
        }
        return byDatabase.values.sorted { $0.database < $1.database }
    }

    func stats(_ view: ConsoleView) -> ResultSet {
        let names = [
            "total_xact_count", "total_query_count", "total_received", "total_sent", "total_xact_time",
            "total_query_time", "total_wait_time", "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent",
            "avg_xact_time", "avg_query_time", "avg_wait_time",
        ]
        let rows = databaseStats(view).map { entry -> [String?] in
            [entry.database] + (Self.totalsValues(entry.totals) + Self.averageValues(entry.averages)).map { "\($0)" }
        }
        return ResultSet(columns: [.text("database")] + names.map { .numeric($0) }, rows: rows)
    }

    func statsTotals(_ view: ConsoleView) -> ResultSet {
        let rows = databaseStats(view).map { [$0.database] + Self.totalsValues($0.totals).map { "\($0)" } }
        return ResultSet(columns: [.text("database")] + Self.perDatabaseNames.map { .numeric($0) }, rows: rows)
    }

    func statsAverages(_ view: ConsoleView) -> ResultSet {
        let rows = databaseStats(view).map { [$0.database] + Self.averageValues($0.averages).map { "\($0)" } }
        return ResultSet(columns: [.text("database")] + Self.perDatabaseNames.map { .numeric($0) }, rows: rows)
    }

    /// One row per counter over every database, as PgBouncer's SHOW TOTALS.
    func totals(_ view: ConsoleView) -> ResultSet {
        var all = DatabaseStats(database: "")
        for entry in databaseStats(view) {
            all.totals.add(entry.totals)
            all.lastPeriod.add(entry.lastPeriod)
            all.seconds = max(all.seconds, entry.seconds)
        }
        let names = [
            "total_xact_count", "total_query_count", "total_client_bytes", "total_server_bytes", "total_xact_time",
            "total_query_time", "total_wait_time", "avg_xact_count", "avg_query_count", "avg_client_bytes",
            "avg_server_bytes", "avg_xact_time", "avg_query_time", "avg_wait_time",
        ]
        let values = Self.totalsValues(all.totals) + Self.averageValues(all.averages)
        return ResultSet(
            columns: [.text("name"), .numeric("value")], rows: zip(names, values).map { [$0, "\($1)"] })
    }

    /// PgBouncer reports its slab caches; Spillway has none, so it reports what the same question asks of it:
    /// the process's resident memory and how many of each object it holds (size 0: allocated individually).
    func memory(_ view: ConsoleView) -> ResultSet {
        let counts = view.lists
        let status = ProcessStatus.read()
        let rows: [[String?]] = [
            ["process_rss", "1024", "\(Self.int4(status.residentKiB))", "0", "\(Self.int4(status.residentKiB * 1024))"],
            ["process_peak_rss", "1024", "\(Self.int4(status.peakResidentKiB))", "0",
             "\(Self.int4(status.peakResidentKiB * 1024))"],
            ["clients", "0", "\(counts.clients)", "0", "0"],
            ["servers", "0", "\(counts.servers)", "0", "0"],
            ["pools", "0", "\(counts.pools)", "0", "0"],
        ]
        return ResultSet(
            columns: [.text("name"), .int4("size"), .int4("used"), .int4("free"), .int4("memtotal")], rows: rows)
    }

    /// PgBouncer 1.19's SHOW STATE: whether the whole process is paused (every pool) or suspended (never).
    func state(_ view: ConsoleView) -> ResultSet {
        let paused = view.pausedAll
        return ResultSet(
            columns: [.text("key"), .text("value")],
            rows: [["active", paused ? "no" : "yes"], ["paused", paused ? "yes" : "no"], ["suspended", "no"]])
    }

    /// Spillway caches no DNS answers (every server connection asks the system resolver): nothing to list.
    func dnsHosts() -> ResultSet {
        ResultSet(columns: [.text("hostname"), .int8("ttl"), .text("addrs")], rows: [])
    }

    func dnsZones() -> ResultSet {
        ResultSet(columns: [.text("zonename"), .int8("serial"), .int4("count")], rows: [])
    }

    private static let perDatabaseNames = [
        "xact_count", "query_count", "bytes_received", "bytes_sent", "xact_time", "query_time", "wait_time",
    ]

    private static func totalsValues(_ totals: TrafficStats) -> [UInt64] {
        [totals.transactions, totals.queries, totals.bytesReceived, totals.bytesSent, totals.transactionMicros,
         totals.queryMicros, totals.waitMicros]
    }

    private static func averageValues(_ averages: TrafficAverages) -> [UInt64] {
        [averages.transactionsPerSecond, averages.queriesPerSecond, averages.bytesReceivedPerSecond,
         averages.bytesSentPerSecond, averages.transactionMicros, averages.queryMicros, averages.waitMicros]
    }

    private static func int4(_ value: Int) -> Int { min(value, Int(Int32.max)) }
}

/// What /proc/self/status and /proc/self/fd say of this process (zeros where unavailable).
struct ProcessStatus {
    var residentKiB = 0
    var peakResidentKiB = 0
    var openFiles = 0

    static func read() -> ProcessStatus {
        var status = ProcessStatus()
        if let text = readSmallFile("/proc/self/status") {
            for line in text.split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 2, let value = Int(fields[1]) else { continue }
                if fields[0] == "VmRSS:" { status.residentKiB = value }
                if fields[0] == "VmHWM:" { status.peakResidentKiB = value }
            }
        }
        if let directory = opendir("/proc/self/fd") {
            while readdir(directory) != nil { status.openFiles += 1 }
            closedir(directory)
            status.openFiles = max(status.openFiles - 3, 0)  // ".", ".." and the directory's own descriptor
        }
        return status
    }
}

/// The contents of a small text file (a /proc entry), or nil.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 1 << 20 {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}
