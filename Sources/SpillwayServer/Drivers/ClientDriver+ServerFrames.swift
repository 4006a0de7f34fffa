import NIOCore
import PostgresWire
import SpillwayCore

/// What comes back from the lent server: forwarded in slices, ReadyForQuery deciding when the server goes
/// back to its shard, and the server's loss.
extension ClientDriver {
    /// The lent server's frames: forwarded in runs until the decoder runs out or the server is released.
    func serverSent(_ serverDecoder: inout FrameDecoder, from server: ServerDriver) throws(WireError) {
        while self.server === server, let header = try serverDecoder.peek() {
            switch header.type {
            case .readyForQuery:
                guard let status = header.readyForQueryStatus else {
                    serverDecoder.extendRun(header)
                    continue
                }
                switch session.readyForQuery(status) {
                case .forward:
                    serverDecoder.extendRun(header)
                    settled(status)
                    if status == .idle { disarmTransactionTimeout() } else { armTransactionTimeout() }
                case .forwardAndRelease:
                    serverDecoder.extendRun(header)
                    settled(status)
                    if let run = serverDecoder.takeRun() { send(run) }
                    releaseAfterTransaction(server)
                    return
                case .rejectTransaction:
                    if let run = serverDecoder.takeRun() { send(run) }
                    _ = try serverDecoder.next()  // the 'Z' is not forwarded
                    rejectTransaction(server)
                    return
                }
            case .errorResponse, .parameterStatus, .copyInResponse, .copyBothResponse:
                if let run = serverDecoder.takeRun() { send(run) }
                guard let frame = try serverDecoder.next() else { return }
                if header.type == .parameterStatus { server.noteParameterStatus(frame) }
                receiveFromServer(frame)
            default:
                serverDecoder.extendRun(header)
            }
        }
        if let run = serverDecoder.takeRun() { send(run) }
    }

    @inline(__always)
    private func send(_ bytes: ByteBuffer) {
        site?.stats.totals.bytesSent &+= UInt64(truncatingIfNeeded: bytes.readableBytes)
        connection.write(bytes)
        // The client cannot take more: stop reading its server until it drains.
        if !connection.isWritable { server?.pauseReading() }
    }

    /// A frame of the lent server that is acted on, not just passed.
    private func receiveFromServer(_ frame: Frame) {
        switch frame.type {
        case .copyInResponse, .copyBothResponse:
            session.copyInStarted()
            send(frame.bytes)
        case .errorResponse:
            session.serverError()
            // A FATAL from the server ends the server connection, not the client's: kept for serverLost.
            let error = try? ErrorResponse(body: frame.body)
            if let metrics = shards.plane.metrics { metrics.errorSent(error?.code?.rawValue ?? "XX000", origin: "server") }
            if let error, error.severity == "FATAL" || error.severity == "PANIC" {
                serverFatal = error
                return
            }
            send(frame.bytes)
        case .parameterStatus:
            // The client's own statement changed a setting: it follows the client to its next server.
            if case .parameterStatus(let name, let value)? = try? BackendMessage(frame: frame) {
                _ = wantedParameters.set(name, value)
                if name == "application_name" { applicationNamed(value) }
            }
            send(frame.bytes)
        default:
            send(frame.bytes)
        }
    }

    /// The transaction ended (ReadyForQuery 'I', nothing pending): the server goes back to its shard, through
    /// server_reset_query when server_reset_query_always is set.
    private func releaseAfterTransaction(_ server: ServerDriver) {
        self.server = nil
        disarmTransactionTimeout()
        let settings = runtime.settings
        let reset = settings.serverResetQueryAlways && !settings.serverResetQuery.isEmpty
        shards.release(server, statements: reset ? [settings.serverResetQuery] : [], reusable: true)
    }

    /// Statement mode: the client opened a transaction. The server rolls it back on its way to the shard; the
    /// client is told, and what it sent meanwhile starts over.
    private func rejectTransaction(_ server: ServerDriver) {
        self.server = nil
        shards.release(server, statements: ["ROLLBACK"], reusable: true)
        session.transactionRejected()
        connection.write { buffer in
            ErrorResponse(
                severity: .error, code: .featureNotSupported,
                message: "transaction blocks are not allowed in pool_mode statement",
                detail: "Spillway rolled the transaction back.",
                hint: "Use pool_mode = transaction for this database or user, or send statements one at a time."
            ).encode(into: &buffer)
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        }
        let pending = held.frames
        held.removeAll()
        for frame in pending { clientFrame(frame) }
    }

    /// `SET application_name`: the client belongs to that application from now on (its address when empty).
    func applicationNamed(_ value: String) {
        let application = value.isEmpty ? remoteHost : value
        guard application != tag.application else { return }
        if countedAtLogin { shards.plane.applicationChanged(from: tag.application, to: application) }
        tag.application = application
    }

    /// The lent server's connection died.
    func serverLost(_ server: ServerDriver) {
        guard self.server === server else { return }
        self.server = nil
        let reason = serverFatal
        serverFatal = nil
        let code = reason?.code ?? .connectionFailure
        let message = reason?.message ?? "server connection was lost"
        switch session.serverLost() {
        case .none:
            break
        case .answerError(let count):
            connection.write { buffer in
                ErrorResponse(severity: .error, code: code, message: message,
                    detail: "The PostgreSQL connection serving this statement closed; Spillway keeps the client connected."
                ).encode(into: &buffer)
                for _ in 0..<count { BackendMessage.readyForQuery(.idle).encode(into: &buffer) }
            }
        case .closeClient:
            fatal(code, message, detail: "The PostgreSQL connection holding this session or transaction closed.")
        }
    }
}
