#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import PostgresWire
import SpillwayCore

/// A client logged in to the admin console (`pgbouncer` / `spillway` database), and the reports the console
/// reads from each client.
extension ClientConnection {
    // MARK: Admin console

    func startConsole(_ request: LoginRequest) {
        let settings = runtime.settings
        let isAdmin = settings.adminUsers.contains(request.user)
        guard isAdmin || settings.statsUsers.contains(request.user) else {
            logger.info("refused admin console login", metadata: ["reason": "not in admin_users or stats_users"])
            fatal(.invalidAuthorizationSpecification, "not allowed",
                  hint: "Only users listed in admin_users or stats_users may use the console.")
            return
        }
        guard let context else { return }
        if admitted {
            // Counted at accept like any client; the console does not take an application's slot.
            admitted = false
            executor.clientConnectionClosed()
        }
        cancelKey = executor.register(self, pool: nil)
        var buffer = context.channel.allocator.buffer(capacity: 256)
        let parameters: [(String, String)] = [
            ("server_version", "15.0 (spillway \(SpillwayVersion.current))"), ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"), ("DateStyle", "ISO, MDY"), ("TimeZone", "UTC"),
            ("standard_conforming_strings", "on"), ("integer_datetimes", "on"), ("is_superuser", "off"),
            ("application_name", wantedParameters["application_name"] ?? ""),
        ]
        for (name, value) in parameters { BackendMessage.parameterStatus(name: name, value: value).encode(into: &buffer) }
        BackendMessage.backendKeyData(cancelKey!).encode(into: &buffer)
        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        phase = .console(isAdmin: isAdmin)
        loginTimer?.cancel()
        logger.info("admin console login", metadata: ["admin": "\(isAdmin)"])
    }

    func consoleFrame(_ frame: Frame, isAdmin: Bool) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 512)
        switch frame.type {
        case .terminate:
            phase = .closed
            context.close(promise: nil)
            return
        case .query:
            guard case .query(let text)? = try? FrontendMessage(frame: frame) else {
                fatal(.protocolViolation, "malformed Query message")
                return
            }
            if text.allSatisfy({ $0.isWhitespace || $0 == ";" }) {
                buffer.writeInteger(MessageType.emptyQueryResponse.rawValue)  // Byte1: EmptyQueryResponse
                buffer.writeInteger(Int32(4))  // Int32: length, no body
            } else {
                let console = AdminConsole(backend: executor)
                switch console.run(text, isAdmin: isAdmin) {
                case .done(let result): result.encode(into: &buffer)
                case .failed(let error): error.encode(into: &buffer)
                case .afterQuiescence(let database, let result):
                    phase = .consoleBusy(isAdmin: isAdmin)
                    awaitQuiescence(database: database, then: result, isAdmin: isAdmin)
                    return
                case .later(let start):
                    phase = .consoleBusy(isAdmin: isAdmin)
                    let promise = loop.makePromise(of: Result<ResultSet, ErrorResponse>.self)
                    start { promise.succeed($0) }
                    promise.futureResult.whenSuccess { [self] outcome in
                        guard case .consoleBusy = phase, let context = self.context else { return }
                        var buffer = context.channel.allocator.buffer(capacity: 1024)
                        switch outcome {
                        case .success(let result): result.encode(into: &buffer)
                        case .failure(let error): error.encode(into: &buffer)
                        }
                        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
                        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
                        phase = .console(isAdmin: isAdmin)
                        do throws(WireError) { try readFrames() } catch { fatal(error.sqlState, String(describing: error)) }
                    }
                    return
                }
            }
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        case .sync:
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        default:
            ErrorResponse(severity: .error, code: .featureNotSupported,
                          message: "the admin console speaks the simple query protocol only").encode(into: &buffer)
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// PAUSE: polls until no server of the database is lent out, closes the servers, then answers.
    private func awaitQuiescence(database: String?, then result: ResultSet, isAdmin: Bool) {
        guard case .consoleBusy = phase else { return }
        guard executor.isQuiescent(database: database) else {
            loop.scheduleTask(in: .milliseconds(20)) { [self] in
                awaitQuiescence(database: database, then: result, isAdmin: isAdmin)
            }
            return
        }
        executor.reconnect(database: database)  // PgBouncer's PAUSE leaves no server connection open
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        result.encode(into: &buffer)
        BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        phase = .console(isAdmin: isAdmin)
        do {
            try readFrames()
        } catch {
            fatal(error.sqlState, String(describing: error))
        }
    }

    /// This client as a SHOW CLIENTS row (on the client's loop).
    func report(now: ContinuousClock.Instant) -> ConnectionReport {
        var state = "active"
        var wait = Duration.zero
        if case .waiting(let since) = session.state {
            state = "waiting"
            wait = now - since
        }
        if case .fetchingParameters = phase { state = "waiting" }
        let (address, port) = ConnectionReport.columns(context?.remoteAddress)
        let (localAddress, localPort) = ConnectionReport.columns(context?.localAddress)
        return ConnectionReport(
            type: "C", user: userForLog, database: databaseForLog, state: state, address: address, port: port,
            localAddress: localAddress, localPort: localPort, connectTime: connectedAtWall, requestTime: requestAtWall, wait: wait,
            pointer: ConnectionReport.pointer(self), link: linkedServer.map(ConnectionReport.pointer) ?? "",
            remotePID: 0, applicationName: wantedParameters["application_name"] ?? "")
    }

    /// KILL_CLIENT from the console: FATAL 57P01 and close, releasing what the client holds.
    func closeByAdministrator() {
        fatal(.adminShutdown, "terminating connection due to administrator command")
    }
}
