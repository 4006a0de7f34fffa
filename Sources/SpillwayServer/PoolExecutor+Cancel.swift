import Logging
import NIOCore
import NIOPosix
import PostgresWire
import SpillwayCore

/// Cancel requests: a client's CancelRequest, and query_timeout's, forwarded to the server doing the work.
extension PoolExecutor {
    /// Forwards a client's CancelRequest to the server it is using right now.
    func cancel(_ request: CancelRequest) {
        guard let client = state.withLockedValue({ state in state.cancelKeys[request].flatMap { state.clients[$0] } })
        else {
            logger.debug("cancel request for unknown key")
            return
        }
        client.onLoop {
            guard let server = client.linkedServer else { return }
            server.onLoop {
                guard let key = server.backendKey else { return }
                // The cancel must land while the server still works for this client, not for the next one.
                sendCancel(
                    key, to: server.target.address, on: server.loop, timeout: self.config.settings.cancelWaitTimeout,
                    logger: self.logger
                ) {
                    server.isForwarding(for: client)
                }
            }
        }
    }

    /// query_timeout: cancels what `server` runs for `client`, if it still does when the cancel lands.
    func cancelRunningQuery(on server: ServerConnection, for client: ClientConnection) {
        let timeout = config.settings.cancelWaitTimeout
        server.onLoop {
            guard let key = server.backendKey else { return }
            sendCancel(key, to: server.target.address, on: server.loop, timeout: timeout, logger: self.logger) {
                server.isForwarding(for: client)
            }
        }
    }
}

/// Opens a new connection to the server and sends CancelRequest with the server's own key.
func sendCancel(
    _ key: CancelRequest, to address: ServerTarget.Address, on loop: EventLoop, timeout: Double, logger: Logger,
    stillWanted: @escaping @Sendable () -> Bool
) {
    // cancel_wait_timeout bounds how long a cancel may take to reach the server.
    let bootstrap = ClientBootstrap(group: loop).connectTimeout(.milliseconds(Int64(max(timeout, 0.1) * 1000)))
    let future: EventLoopFuture<Channel>
    switch address {
    case .tcp(let host, let port): future = bootstrap.connect(host: host, port: port)
    case .unix(let path): future = bootstrap.connect(unixDomainSocketPath: path)
    }
    future.whenComplete { result in
        switch result {
        case .success(let channel):
            guard stillWanted() else {
                channel.close(promise: nil)
                return
            }
            var buffer = channel.allocator.buffer(capacity: 16)
            key.encode(into: &buffer)
            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
        case .failure(let error):
            logger.warning("could not send cancel request to server", metadata: ["error": "\(error)"])
        }
    }
}
