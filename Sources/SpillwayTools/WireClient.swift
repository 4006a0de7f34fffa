import NIOCore
import NIOPosix
import PostgresWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small PostgreSQL client on SwiftNIO and the PostgresWire codec: logs in over TCP (trust, cleartext, md5 or
/// SCRAM-SHA-256, no TLS), runs simple-protocol queries and returns their rows as text.
///
/// One query at a time per connection. Every failure is a `WireClientError`; a server error carries its SQLSTATE.
/// A timed out or cancelled operation closes the connection. Dropping a `WireClient` does not close it: call
/// `close()` (the drill relies on this to leave sessions open).
public final class WireClient: Sendable {
    /// What the connection was opened with.
    public let configuration: Configuration
    /// ParameterStatus values the server sent at login: `server_version`, `application_name`, ...
    public let parameters: [String: String]
    /// The BackendKeyData of the session, when the server sent one.
    public let backendKey: CancelRequest?

    private let channel: any Channel
    private let handler: NIOLoopBound<WireClientHandler>

    private init(
        configuration: Configuration, parameters: [String: String], backendKey: CancelRequest?,
        channel: any Channel, handler: NIOLoopBound<WireClientHandler>
    ) {
        self.configuration = configuration
        self.parameters = parameters
        self.backendKey = backendKey
        self.channel = channel
        self.handler = handler
    }

    /// Connects and logs in; returns once the server is ready for queries. The whole login must fit in
    /// `configuration.connectTimeout`.
    public static func connect(
        _ configuration: Configuration, on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WireClient {
        let deadline = ContinuousClock.now + configuration.connectTimeout
        let loop = group.next()
        let handler = try await loop.submit { NIOLoopBound(WireClientHandler(eventLoop: loop), eventLoop: loop) }.get()
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(configuration.connectTimeout.timeAmount)
                // TCP_NODELAY: ClientBootstrap sets it at IPPROTO_TCP (a SOL_SOCKET option 1 would be SO_DEBUG).
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(handler.value)
                    }
                }
                .connect(host: configuration.host, port: configuration.port).get()
        } catch ChannelError.connectTimeout {
            throw WireClientError.connectTimeout(configuration.connectTimeout)
        } catch {
            throw WireClientError.connectFailed(Self.reason(error))
        }

        var login = WireLogin(
            user: configuration.user, password: configuration.password, nonce: WireLogin.randomNonce())
        var startup = channel.allocator.buffer(capacity: 64)
        StartupMessage(parameters: configuration.startupParameters).encode(into: &startup)
        var outgoing: ByteBuffer? = startup
        do {
            while true {
                let remaining = deadline - .now
                guard remaining > .zero else { throw WireClientError.connectTimeout(configuration.connectTimeout) }
                let received = try await exchange(
                    channel: channel, handler: handler, send: outgoing, until: .loginStep, timeout: remaining)
                outgoing = nil
                for frame in received.frames {
                    switch login.receive(frame) {
                    case .none:
                        continue
                    case .send(let message):
                        var buffer = channel.allocator.buffer(capacity: 128)
                        message.encode(into: &buffer)
                        outgoing = buffer
                    case .ready:
                        return WireClient(
                            configuration: configuration, parameters: login.parameters, backendKey: login.backendKey,
                            channel: channel, handler: handler)
                    case .fail(let error):
                        throw error
                    }
                }
                switch received.end {
                case .reached: continue
                case .timedOut: throw WireClientError.connectTimeout(configuration.connectTimeout)
                case .closed(let reason): throw reason
                }
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// Runs `sql` (one statement, or several separated by semicolons) and returns the last statement's result.
    /// `timeout`: how long the whole answer may take; nil waits as long as it takes.
    @discardableResult
    public func query(_ sql: String, timeout: Duration? = nil) async throws -> QueryResult {
        let results = try await queries(sql, timeout: timeout)
        return results.last ?? QueryResult(tag: "")
    }

    /// Runs `sql` with the simple query protocol and returns one result per statement. An error stops the
    /// statements and is thrown once the server is ready again (the connection stays usable).
    @discardableResult
    public func queries(_ sql: String, timeout: Duration? = nil) async throws -> [QueryResult] {
        var buffer = channel.allocator.buffer(capacity: sql.utf8.count + 6)
        FrontendMessage.query(sql).encode(into: &buffer)
        let received = try await Self.exchange(
            channel: channel, handler: handler, send: buffer, until: .readyForQuery, timeout: timeout)
        var response = QueryResponse()
        for frame in received.frames {
            switch response.receive(frame) {
            case .more:
                continue
            case .done(let result):
                return try result.get()
            case .broken(let error):
                channel.close(promise: nil)
                throw error
            }
        }
        // The answer did not end: a FATAL the server sent before closing says more than the close.
        if let error = response.pendingError {
            throw WireClientError.server(error)
        }
        switch received.end {
        case .timedOut:
            throw WireClientError.queryTimeout(timeout ?? .zero)
        case .closed(let reason):
            throw reason
        case .reached:
            throw WireClientError.protocolViolation("answer ended without ReadyForQuery")
        }
    }

    /// Sends Terminate and closes the connection. Safe to call more than once and after the server closed it.
    public func close() async {
        let handler = self.handler
        try? await channel.eventLoop.flatSubmit { handler.value.terminate() }.get()
    }

    /// True until the connection is closed by either side.
    public var isOpen: Bool {
        channel.isActive
    }

    /// One exchange on the channel's loop; cancelling the calling task closes the connection.
    private static func exchange(
        channel: any Channel, handler: NIOLoopBound<WireClientHandler>, send: ByteBuffer?,
        until: WireClientHandler.Until, timeout: Duration?
    ) async throws -> WireClientHandler.Received {
        let future = channel.eventLoop.flatSubmit {
            handler.value.exchange(send: send, until: until, timeout: timeout?.timeAmount)
        }
        let received = try await withTaskCancellationHandler {
            try await future.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        if Task.isCancelled, received.end != .reached {
            throw WireClientError.cancelled
        }
        return received
    }

    /// A short reason for a failed TCP connect: `Connection refused`.
    private static func reason(_ error: any Error) -> String {
        if let failure = error as? NIOConnectionError, let first = failure.connectionErrors.first {
            return reason(first.error)
        }
        if let ioError = error as? IOError {
            return String(cString: strerror(ioError.errnoCode))
        }
        return "\(error)"
    }
}
