import Foundation
import NIOCore
import NIOPosix
import SpillwayTools
import Testing

/// The login-side timeouts, on by default: a client that never logs in, and a server that never answers.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LoginTimeoutTests {
    /// client_login_timeout: a client that connects and sends nothing gets a FATAL naming the timeout and is
    /// closed.
    @Test func silentClientIsClosedAfterClientLoginTimeout() async throws {
        let spillway = try await SpillwayUnderTest.start(settings: ["client_login_timeout = 1"])
        defer { Task { await spillway.stop() } }
        let started = ContinuousClock.now
        let bytes = try await Task.detached { try readUntilClosed(port: spillway.port, timeout: 10) }.value
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(bytes.first == UInt8(ascii: "E"), "expected an ErrorResponse, got \(bytes.prefix(16))")
        #expect(text.contains("client_login_timeout"), "\(text)")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    /// server_connect_timeout: a server that accepts TCP and never answers the startup does not hold the
    /// client: it gets an error naming the timeout within about that long.
    @Test func unresponsiveServerFailsWithinServerConnectTimeout() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(silent.localAddress?.port)
        let spillway = try await SpillwayUnderTest.start(
            settings: ["server_connect_timeout = 1", "auth_type = plain"],
            databases: ["silent = host=127.0.0.1 port=\(port) dbname=silent"],
            authFile: ["\"someone\" \"secret\""])
        defer { Task { await spillway.stop() } }
        let started = ContinuousClock.now
        do {
            let client = try await WireClient.connect(.init(
                host: "127.0.0.1", port: spillway.port, user: "someone", password: "secret", database: "silent",
                connectTimeout: .seconds(20)))
            try await client.query("select 1", timeout: .seconds(20))
            Issue.record("a query reached a server that never answers")
        } catch let error as WireClientError {
            #expect(error.description.contains("server_connect_timeout"), "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(8), "took \(ContinuousClock.now - started)")
        try await silent.close()
    }
}

/// Connects to 127.0.0.1:port, sends nothing, and returns what arrives until the peer closes.
private func readUntilClosed(port: Int, timeout: Int) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed") }
    defer { close(fd) }
    var limit = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw HarnessError("connect to \(port) failed") }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(fd, &chunk, chunk.count, 0)
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}
