#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import SpillwayEngine

@Suite struct ListenerConnectorTests {
    /// A TCP listener shared by two loops accepts every connection the connector opens, and bytes flow both ways.
    @Test func listenerAcceptsWhatTheConnectorOpens() async throws {
        try await withGroup(loops: 2) { group in
            let listener = try Listener(bindingTo: NetworkAddress(numericHost: "127.0.0.1", port: 0)!, backlog: 128)
            let port = try #require(listener.address.port)
            #expect(port > 0)
            let accepted = Mutex<[Int]>([])  // loop index of each accepted connection
            let servers = Mutex<[Box<Connection>]>([])
            listener.start(on: group.loops) { incoming in
                let echo = Recorder()
                echo.echo = true
                let connection = try! Connection(socket: incoming.socket, loop: incoming.loop, delegate: echo)
                accepted.withLock { $0.append(incoming.loop.index) }
                servers.withLock { $0.append(Box(connection)) }
            }
            let count = 20
            let loop = group.loops[0]
            let echoes = try await loop.wait("every echo", timeout: .seconds(10)) { (done: @escaping @Sendable (Int) -> Void) in
                var finished = 0
                var clients: [Connection] = []
                for i in 0..<count {
                    loop.connect(to: .tcp(host: "127.0.0.1", port: port), timeout: .seconds(5)) { result in
                        guard case .success(let socket) = result else {
                            Issue.record("connect failed: \(result)")
                            return
                        }
                        #expect((try? socket.option(level: Int32(IPPROTO_TCP), name: TCP_NODELAY)) == 1)
                        let reader = Recorder()
                        let client = try! Connection(socket: socket, loop: loop, delegate: reader)
                        clients.append(client)
                        let message = "hello \(i)"
                        reader.onBytes = {
                            guard reader.bytes.count == message.utf8.count else { return }
                            #expect(String(decoding: reader.bytes, as: UTF8.self) == message)
                            finished += 1
                            client.close()
                            if finished == count { done(finished) }
                        }
                        client.write(buffer(message))
                    }
                }
            }
            #expect(echoes == count)
            #expect(accepted.withLock { $0.count } == count)
            let stopped = try await loop.wait("the listener to stop") { (done: @escaping @Sendable (Bool) -> Void) in
                listener.stop { done(true) }
            }
            #expect(stopped)
            servers.withLock { $0 = [] }
        }
    }

    /// A host name is resolved off the loop and connected to.
    @Test func connectorResolvesNames() async throws {
        try await withGroup { group in
            let listener = try Listener(bindingTo: NetworkAddress(numericHost: "127.0.0.1", port: 0)!, backlog: 16)
            defer { listener.socket.close() }
            let port = listener.address.port!
            let loop = group.loops[0]
            let result = try await loop.wait("the connect") { (done: @escaping @Sendable (Bool) -> Void) in
                loop.connect(to: .tcp(host: "localhost", port: port), timeout: .seconds(5)) { result in
                    if case .success(let socket) = result {
                        socket.close()
                        done(true)
                    } else {
                        // localhost may resolve to ::1 first; the IPv4 address is tried next, so a failure is real.
                        Issue.record("connect to localhost failed: \(result)")
                        done(false)
                    }
                }
            }
            #expect(result)
        }
    }

    /// Nothing listening: the attempt fails with ECONNREFUSED, quickly.
    @Test func connectToClosedPortIsRefused() async throws {
        try await withGroup { group in
            let probe = try Listener(bindingTo: NetworkAddress(numericHost: "127.0.0.1", port: 0)!, backlog: 1)
            let port = probe.address.port!
            probe.socket.close()
            let loop = group.loops[0]
            let error = try await loop.wait("the refusal") { (done: @escaping @Sendable (ConnectError?) -> Void) in
                loop.connect(to: .tcp(host: "127.0.0.1", port: port), timeout: .seconds(5)) { result in
                    if case .failure(let error) = result { done(error) } else { done(nil) }
                }
            }
            #expect(error == .failed(SocketError("connect", errno: .connectionRefused)))
        }
    }

    /// A name that does not resolve is a resolution error, not a hang.
    @Test func unresolvableNameFails() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let error = try await loop.wait("the resolution error") { (done: @escaping @Sendable (ConnectError?) -> Void) in
                loop.connect(to: .tcp(host: "no-such-host.invalid", port: 5432), timeout: .seconds(5)) { result in
                    if case .failure(let error) = result { done(error) } else { done(nil) }
                }
            }
            guard case .resolution = error else {
                Issue.record("expected a resolution error, got \(String(describing: error))")
                return
            }
        }
    }

    /// A server whose accept queue is full never answers: the connect gives up at its deadline.
    @Test func connectTimesOutAtItsDeadline() async throws {
        try await withGroup { group in
            let listener = try Listener(bindingTo: NetworkAddress(numericHost: "127.0.0.1", port: 0)!, backlog: 0)
            defer { listener.socket.close() }
            let port = listener.address.port!
            // Fill the accept queue (never accepted) with blocking connects from this thread.
            var fillers: [Int32] = []
            defer { fillers.forEach { _ = Glibc.close($0) } }
            for _ in 0..<8 {
                let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                NetworkAddress(numericHost: "127.0.0.1", port: port)!.withSockAddr { _ = Glibc.connect(fd, $0, $1) }
                fillers.append(fd)
            }
            let loop = group.loops[0]
            let started = ContinuousClock.now
            let error = try await loop.wait("the timeout") { (done: @escaping @Sendable (ConnectError?) -> Void) in
                loop.connect(to: .tcp(host: "127.0.0.1", port: port), timeout: .milliseconds(300)) { result in
                    if case .failure(let error) = result { done(error) } else { done(nil) }
                }
            }
            #expect(error == .timedOut)
            #expect(ContinuousClock.now - started >= .milliseconds(290))
        }
    }

    /// Unix sockets: listen on a path, connect to it, exchange bytes.
    @Test func unixSocketListenAndConnect() async throws {
        try await withGroup { group in
            let path = NSTemporaryDirectory() + "spillway-engine-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            defer { unlink(path) }
            let listener = try Listener(bindingTo: NetworkAddress(unixPath: path)!, backlog: 16)
            #expect(listener.address.host == path)
            let servers = Mutex<[Box<Connection>]>([])
            listener.start(on: group.loops) { incoming in
                let echo = Recorder()
                echo.echo = true
                servers.withLock { $0.append(Box(try! Connection(socket: incoming.socket, loop: incoming.loop, delegate: echo))) }
            }
            let loop = group.loops[0]
            let reply = try await loop.wait("the echo over the unix socket") { (done: @escaping @Sendable ([UInt8]) -> Void) in
                loop.connect(to: .unix(path: path), timeout: .seconds(5)) { result in
                    guard case .success(let socket) = result else {
                        Issue.record("unix connect failed: \(result)")
                        return
                    }
                    let reader = Recorder()
                    let client = try! Connection(socket: socket, loop: loop, delegate: reader)
                    reader.onBytes = {
                        if reader.bytes.count == 4 {
                            done(reader.bytes)
                            client.close()
                        }
                    }
                    client.write(buffer("unix"))
                }
            }
            #expect(String(decoding: reply, as: UTF8.self) == "unix")
            listener.stop()
        }
    }
}
