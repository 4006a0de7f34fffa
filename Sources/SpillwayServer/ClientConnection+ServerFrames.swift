import CoreMetrics
import Logging
import NIOCore
import PostgresWire
import SpillwayCore
import Synchronization

/// What comes back from the linked server: forwarded in slices on the fast path, ReadyForQuery deciding when
/// the server goes back to the pool, and the server's loss.
extension ClientConnection {
    // MARK: Frames from the server

    /// Same-loop fast path: forwards what the linked server's decoder holds, in slices, until it runs out or the
    /// server is released. Returns with the decoder positioned after the last frame handled.
    func forwardServerFrames(_ serverDecoder: inout FrameDecoder, from server: ServerConnection) throws(WireError) {
        guard let context else { return }
        while linkedServer === server, let header = try serverDecoder.peek() {
            switch header.type {
            case .readyForQuery:
                guard let status = header.readyForQueryStatus else {
                    serverDecoder.extendRun(header)
                    continue
                }
                let now = Self.uptimeNanos()
                traffic.readyForQuery(status, at: now)
                switch session.readyForQuery(status) {
                case .forward:
                    serverDecoder.extendRun(header)
                    settled(status, at: now)
                case .forwardAndRelease:
                    serverDecoder.extendRun(header)
                    if let run = serverDecoder.takeRun() { sendToClient(run, flush: true, context: context) }
                    releaseAfterTransaction(server)
                    return
                case .rejectTransaction:
                    if let run = serverDecoder.takeRun() { sendToClient(run, flush: false, context: context) }
                    _ = try serverDecoder.next()  // the 'Z' is not forwarded
                    rejectTransaction()
                    return
                }
            case .errorResponse, .parameterStatus, .copyInResponse, .copyBothResponse:
                if let run = serverDecoder.takeRun() { sendToClient(run, flush: false, context: context) }
                guard let frame = try serverDecoder.next() else { return }
                if header.type == .parameterStatus { server.noteParameterStatus(frame) }
                receiveFromServer(frame)
            default:
                serverDecoder.extendRun(header)
            }
        }
        if let run = serverDecoder.takeRun() { sendToClient(run, flush: false, context: context) }
    }

    @inline(__always)
    func sendToClient(_ bytes: ByteBuffer, flush: Bool, context: ChannelHandlerContext) {
        traffic.sent(bytes.readableBytes)
        if flush {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        } else {
            context.write(wrapOutboundOut(bytes), promise: nil)
        }
    }

    /// Monotonic nanoseconds for the traffic clocks.
    @inline(__always)
    static func uptimeNanos() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }

    /// A client that keeps its server (session mode) hands its counters over about once a second.
    func flushStatsIfDue() {
        let now = Self.uptimeNanos()
        guard let pool, traffic.isDue(at: now) else { return }
        executor.record(traffic.take(at: now), key: pool)
    }

    /// The transaction ended (ReadyForQuery 'I', nothing pending): the server goes back to the pool, through
    /// server_reset_query when server_reset_query_always is set.
    func releaseAfterTransaction(_ server: ServerConnection) {
        linkedServer = nil
        let settings = runtime.settings
        let reset = settings.serverResetQueryAlways && !settings.serverResetQuery.isEmpty
        let now = Self.uptimeNanos()
        transactionEnded()
        disarmTransactionTimeout()
        lastStatement = nil
        publish(.idle(since: now))
        executor.release(
            server, from: self, statements: reset ? [settings.serverResetQuery] : [], stats: traffic.take(at: now))
    }

    /// A frame from the linked server (on the client's loop).
    @inline(__always)
    func receiveFromServer(_ frame: Frame) {
        guard let context else { return }
        switch frame.type {
        case .readyForQuery:
            guard let status = frame.readyForQueryStatus else {
                sendToClient(frame.bytes, flush: false, context: context)
                return
            }
            let now = Self.uptimeNanos()
            traffic.readyForQuery(status, at: now)
            switch session.readyForQuery(status) {
            case .forward:
                sendToClient(frame.bytes, flush: false, context: context)
                settled(status, at: now)
            case .forwardAndRelease:
                sendToClient(frame.bytes, flush: true, context: context)
                guard let server = linkedServer else { return }
                releaseAfterTransaction(server)
            case .rejectTransaction:
                rejectTransaction()
            }
        case .copyInResponse, .copyBothResponse:
            session.copyInStarted()
            sendToClient(frame.bytes, flush: false, context: context)
        case .errorResponse:
            session.serverError()
            // A FATAL from the server ends the server connection, not the client's: keep it for serverLost,
            // which tells the client in a form that lets it go on where it can.
            let error = try? ErrorResponse(body: frame.body)
            if let metrics = executor.metrics { metrics.errorSent(error?.code?.rawValue ?? "XX000", origin: "server") }
            if let error, error.severity == "FATAL" || error.severity == "PANIC" {
                serverFatal = error
                return
            }
            sendToClient(frame.bytes, flush: false, context: context)
        case .parameterStatus:
            // The client's own statement changed a setting: it follows the client to its next server.
            if case .parameterStatus(let name, let value)? = try? BackendMessage(frame: frame) {
                wantedParameters.set(name, value)
                if name == "application_name" { applicationNamed(value) }
            }
            sendToClient(frame.bytes, flush: false, context: context)
        default:
            sendToClient(frame.bytes, flush: false, context: context)
        }
    }

    /// The end of a read batch from the server: flush what was forwarded.
    func serverReadComplete() {
        context?.flush()
    }

    /// Statement mode: the client opened a transaction. Roll it back, tell the client, release the server.
    /// The server is the rollback's from here on: a client closing meanwhile releases nothing.
    func rejectTransaction() {
        guard let server = linkedServer else { return }
        linkedServer = nil
        publish(.idle(since: Self.uptimeNanos()))
        server.onLoop {
            server.detach(from: self)
            server.runInternal(["ROLLBACK"]) { result in
                let clean: Bool
                if case .success(.idle) = result { clean = true } else { clean = false }
                self.executor.release(server, from: nil, statements: [], reusable: clean)
                self.onLoop { self.transactionRejected() }
            }
        }
    }

    func transactionRejected() {
        session.transactionRejected()
        guard case .ready = phase, let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        ErrorResponse(
            severity: .error, code: .featureNotSupported,
            message: "transaction blocks are not allowed in pool_mode statement",
            detail: "Spillway rolled the transaction back.",
            hint: "Use pool_mode = transaction for this database or user, or send statements one at a time."
        ).encode(into: &buffer)
        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        // Messages the client sent meanwhile were held; they start a new transaction.
        let pending = held
        held.removeAll()
        for frame in pending { clientFrame(frame) }
    }

    /// The linked server's connection died.
    func serverLost(_ serverID: ServerID) {
        guard let server = linkedServer, server.id == serverID else { return }
        linkedServer = nil
        publish(.idle(since: Self.uptimeNanos()))
        let reason = serverFatal
        serverFatal = nil
        let code = reason?.code ?? .connectionFailure
        let message = reason?.message ?? "server connection was lost"
        switch session.serverLost() {
        case .none:
            break
        case .answerError(let count):
            guard let context else { return }
            var buffer = context.channel.allocator.buffer(capacity: 128)
            executor.metrics?.errorSent(code.rawValue, origin: "spillway")
            ErrorResponse(severity: .error, code: code, message: message,
                          detail: "The PostgreSQL connection serving this statement closed; Spillway keeps the client connected.")
                .encode(into: &buffer)
            for _ in 0..<count { BackendMessage.readyForQuery(.idle).encode(into: &buffer) }
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .closeClient:
            fatal(code, message, detail: "The PostgreSQL connection holding this session or transaction closed.")
        }
    }
}
