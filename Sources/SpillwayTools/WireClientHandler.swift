import NIOCore
import PostgresWire

/// The channel end of a `WireClient`: splits the byte stream into frames and hands them to the one exchange that
/// waits, keeping frames that arrive while nobody waits (a FATAL the server sends before it closes). Every method
/// runs on the channel's event loop.
final class WireClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Which frame ends a wait.
    enum Until: Sendable {
        /// ReadyForQuery: the end of a query's answer.
        case readyForQuery
        /// A step of the login: an authentication request that needs an answer, ReadyForQuery or ErrorResponse.
        case loginStep

        /// True when `frame` ends the wait.
        func isEnd(_ frame: Frame) -> Bool {
            switch (self, frame.type) {
            case (_, .readyForQuery):
                return true
            case (.loginStep, .errorResponse):
                return true
            case (.loginStep, .authentication):
                // Int32: authentication code; 0 (AuthenticationOk) needs no answer, the rest of the login follows
                return frame.body.getInteger(at: frame.body.readerIndex, as: Int32.self) != 0
            default:
                return false
            }
        }
    }

    /// What a wait collected, and why it ended.
    struct Received: Sendable {
        /// Frames in arrival order; with `.reached` the last one is the frame that ended the wait.
        var frames: [Frame]
        /// Why the wait ended.
        var end: End
    }

    /// Why a wait ended.
    enum End: Sendable, Equatable {
        /// The frame the wait was for arrived.
        case reached
        /// The connection ended first, for this reason.
        case closed(WireClientError)
        /// The timeout passed first; the connection has been closed.
        case timedOut
    }

    /// An exchange waiting for frames.
    private struct Waiter {
        /// Tells a stale timer from the current one.
        var id: Int
        var until: Until
        var frames: [Frame]
        var promise: EventLoopPromise<Received>
        var timer: Scheduled<Void>?
    }

    /// Where the connection stands.
    private enum State {
        /// Open, nobody waiting: frames go to `inbox`. Next: `.waiting`, `.closed`.
        case idle
        /// Open, an exchange collects frames. Next: `.idle`, `.closed`.
        case waiting(Waiter)
        /// The connection ended, for this reason; `inbox` may still hold what came before. Final.
        case closed(WireClientError)
    }

    /// The channel's event loop, where every method runs.
    private let eventLoop: any EventLoop
    private var state = State.idle
    private var decoder = FrameDecoder()
    /// Frames received while nobody waited.
    private var inbox = CircularBuffer<Frame>()
    private var context: ChannelHandlerContext?
    private var nextWaiterID = 0

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(unwrapInboundIn(data))
        do {
            while let frame = try decoder.next() {
                deliver(frame)
            }
        } catch {
            end(.protocolViolation(error.description))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a failed write: the connection is gone either way.
        end(.connectionClosed)
        context.close(promise: nil)
    }

    /// Sends `message` (if any), then collects frames until `until` is met, the connection ends or `timeout`
    /// passes (then the connection is closed: its state is unknown). Fails with `WireClientError.busy` when
    /// another exchange is waiting.
    func exchange(send message: ByteBuffer?, until: Until, timeout: TimeAmount?) -> EventLoopFuture<Received> {
        if case .waiting = state {
            return eventLoop.makeFailedFuture(WireClientError.busy)
        }
        let promise = eventLoop.makePromise(of: Received.self)
        guard let context else {
            promise.succeed(Received(frames: Array(inbox), end: .closed(.connectionClosed)))
            inbox.removeAll()
            return promise.futureResult
        }
        if let message, case .idle = state {
            context.writeAndFlush(wrapOutboundOut(message), promise: nil)
        }
        var frames: [Frame] = []
        while let frame = inbox.popFirst() {
            frames.append(frame)
            if until.isEnd(frame) {
                promise.succeed(Received(frames: frames, end: .reached))
                return promise.futureResult
            }
        }
        if case .closed(let reason) = state {
            promise.succeed(Received(frames: frames, end: .closed(reason)))
            return promise.futureResult
        }
        nextWaiterID += 1
        let id = nextWaiterID
        var waiter = Waiter(id: id, until: until, frames: frames, promise: promise, timer: nil)
        if let timeout {
            waiter.timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.timeoutFired(id: id)
            }
        }
        state = .waiting(waiter)
        return promise.futureResult
    }

    /// Sends Terminate and closes the connection; completes once it is closed.
    func terminate() -> EventLoopFuture<Void> {
        guard let context else {
            return eventLoop.makeSucceededVoidFuture()
        }
        if case .closed = state {
            return eventLoop.makeSucceededVoidFuture()
        }
        var buffer = context.channel.allocator.buffer(capacity: 5)
        FrontendMessage.terminate.encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        let closed = eventLoop.makePromise(of: Void.self)
        context.close(promise: closed)
        return closed.futureResult
    }

    /// Hands `frame` to the waiting exchange, or keeps it for the next one.
    private func deliver(_ frame: Frame) {
        guard case .waiting(var waiter) = state else {
            inbox.append(frame)
            return
        }
        waiter.frames.append(frame)
        if waiter.until.isEnd(frame) {
            state = .idle
            waiter.timer?.cancel()
            waiter.promise.succeed(Received(frames: waiter.frames, end: .reached))
        } else {
            state = .waiting(waiter)
        }
    }

    /// The connection ended: the waiting exchange (if any) gets what it collected. The first reason stays.
    private func end(_ reason: WireClientError) {
        switch state {
        case .closed:
            return
        case .idle:
            state = .closed(reason)
        case .waiting(let waiter):
            state = .closed(reason)
            waiter.timer?.cancel()
            waiter.promise.succeed(Received(frames: waiter.frames, end: .closed(reason)))
        }
    }

    /// The timeout of exchange `id` passed: end it and close the connection.
    private func timeoutFired(id: Int) {
        guard case .waiting(let waiter) = state, waiter.id == id else { return }
        state = .closed(.connectionClosed)
        waiter.promise.succeed(Received(frames: waiter.frames, end: .timedOut))
        context?.close(promise: nil)
    }
}
