import NIOCore
import PostgresWire
import SpillwayCore

/// How a client is told it broke the protocol or must go: an ErrorResponse with its SQLSTATE, then close.
extension ClientConnection {
    // MARK: Errors

    /// A logged-in client sent a message type that has no place there: 08P01 naming it, then close. The server
    /// it held (if any) is cleaned or closed by `releaseOnClose`, as for any client that leaves mid-exchange.
    func protocolViolation(_ type: MessageType) {
        logger.warning("protocol violation: unexpected message type from client", metadata: [
            "type": "\(type)",
        ])
        fatal(.protocolViolation, "unexpected message type \(type) from client",
              detail: "Spillway closes a connection whose client breaks the PostgreSQL protocol.")
    }

    /// Sends a FATAL ErrorResponse and closes the connection.
    func fatal(_ code: SQLState, _ message: String, detail: String? = nil, hint: String? = nil) {
        guard let context else { return }
        if case .ready = phase { releaseOnClose() }
        phase = .closed
        closeReason = "\(code.rawValue) \(message)"
        executor.metrics?.errorSent(code.rawValue, origin: "spillway")
        var buffer = context.channel.allocator.buffer(capacity: 128)
        ErrorResponse(severity: .fatal, code: code, message: message, detail: detail, hint: hint).encode(into: &buffer)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
