import Foundation
import NIOCore
import NIOPosix
import PostgresWire
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
        let bytes = try await Task.detached { try loopbackExchange(port: spillway.port, send: []) }.value
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(bytes.first == MessageType.errorResponse.rawValue, "expected an ErrorResponse, got \(bytes.prefix(16))")
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
