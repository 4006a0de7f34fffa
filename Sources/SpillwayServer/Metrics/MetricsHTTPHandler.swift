import NIOCore
import NIOHTTP1

/// Answers the metrics listener's HTTP requests: `GET /metrics` (Prometheus text format 0.0.4) and
/// `GET /healthz` (200 while Spillway accepts clients, 503 while paused or shutting down). Anything else is 404,
/// a method other than GET or HEAD is 405.
final class MetricsHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the handler asks of the running Spillway.
    struct Source: Sendable {
        /// The metrics text, handed to the callback (on any thread) once gathered.
        var metrics: @Sendable (_ reply: @escaping @Sendable (String) -> Void) -> Void
        /// Nil while healthy, else why not (the 503 body).
        var unhealthyReason: @Sendable () -> String?
    }

    private let source: Source

    init(source: Source) {
        self.source = source
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        let status: HTTPResponseStatus
        let body: String
        let contentType = "text/plain; charset=utf-8"
        if request.method != .GET && request.method != .HEAD {
            (status, body) = (.methodNotAllowed, "only GET and HEAD\n")
        } else {
            switch path {
            case "/metrics":
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let loop = context.eventLoop
                source.metrics { text in
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.respond(context: context, request: request, status: .ok, body: text,
                            contentType: "text/plain; version=0.0.4; charset=utf-8")
                    }
                }
                return
            case "/healthz":
                if let reason = source.unhealthyReason() {
                    (status, body) = (.serviceUnavailable, "\(reason)\n")
                } else {
                    (status, body) = (.ok, "ok\n")
                }
            default:
                (status, body) = (.notFound, "not found; try /metrics or /healthz\n")
            }
        }
        respond(context: context, request: request, status: status, body: body, contentType: contentType)
    }

    private func respond(
        context: ChannelHandlerContext, request: HTTPRequestHead, status: HTTPResponseStatus, body: String,
        contentType: String
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
                      promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
