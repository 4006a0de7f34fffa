#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PostgresWire
import SpillwayCore

/// One row of SHOW CLIENTS or SHOW SERVERS, read on the connection's own event loop.
struct ConnectionReport {
    var type: String
    var user: String?
    var database: String?
    var state: String
    /// The peer's and the local IP address ("unix" on the Unix socket) and port (0 there).
    var address: String
    var port: Int
    var localAddress: String
    var localPort: Int
    var connectTime: time_t
    var requestTime: time_t
    var wait: Duration
    var pointer: String
    var link: String
    var remotePID: Int32
    var applicationName: String

    /// PgBouncer's columns for SHOW CLIENTS and SHOW SERVERS (the same for both).
    static let columns: [ResultSet.Column] = [
        .text("type"), .text("user"), .text("database"), .text("state"), .text("addr"), .int4("port"),
        .text("local_addr"), .int4("local_port"), .text("connect_time"), .text("request_time"), .int4("wait"),
        .int4("wait_us"), .int4("close_needed"), .text("ptr"), .text("link"), .int4("remote_pid"), .text("tls"),
        .text("application_name"),
    ]

    var row: [String?] {
        let seconds = wait.components.seconds
        let micros = wait.components.attoseconds / 1_000_000_000_000
        return [
            type, user, database, state, address, "\(port)", localAddress, "\(localPort)", Self.format(connectTime),
            Self.format(requestTime), "\(seconds)", "\(micros)", "0", pointer, link, "\(remotePID)", "", applicationName,
        ]
    }

    /// "2026-11-26 23:38:32 UTC", as PgBouncer prints times.
    static func format(_ time: time_t) -> String {
        var seconds = time
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }

    /// An object's address as PgBouncer's `ptr` column shows it.
    static func pointer(_ object: AnyObject) -> String {
        "0x" + String(UInt(bitPattern: ObjectIdentifier(object).hashValue), radix: 16)
    }
}
