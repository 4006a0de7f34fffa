import PostgresWire
import SpillwayCore
import SpillwayEngine

/// A client logged in to the admin console (`pgbouncer` / `spillway` database) on the engine: commands in,
/// answers gathered from the loops written back on this client's loop.
extension ClientDriver {
    /// The database name the console client used, and whether it may run more than SHOW.
    struct ConsoleLogin {
        var database: String
        var isAdmin: Bool
    }

    /// The database the client asked for (SHOW CLIENTS).
    var databaseName: String? {
        switch phase {
        case .console(let login), .consoleBusy(let login): login.database
        default: pool?.database
        }
    }

    func startConsole(_ request: LoginRequest) {
        let settings = runtime.settings
        let isAdmin = settings.adminUsers.contains(request.user)
        guard isAdmin || settings.statsUsers.contains(request.user) else {
            logger.info("refused admin console login", metadata: ["reason": "not in admin_users or stats_users"])
            fatal(.invalidAuthorizationSpecification, "not allowed",
                hint: "Only users listed in admin_users or stats_users may use the console.")
            return
        }
        if admitted {
            // Counted at accept like any client; the console does not take an application's slot.
            admitted = false
            shards.plane.clientConnections.giveBack()
        }
        let key = shards.plane.register(self)
        cancelKey = key
        let parameters: [(String, String)] = [
            ("server_version", "15.0 (spillway \(SpillwayVersion.current))"), ("server_encoding", "UTF8"),
            ("client_encoding", "UTF8"), ("DateStyle", "ISO, MDY"), ("TimeZone", "UTC"),
            ("standard_conforming_strings", "on"), ("integer_datetimes", "on"), ("is_superuser", "off"),
            ("application_name", wantedParameters["application_name"] ?? ""),
        ]
        connection.write { buffer in
            for (name, value) in parameters { BackendMessage.parameterStatus(name: name, value: value).encode(into: &buffer) }
            BackendMessage.backendKeyData(key).encode(into: &buffer)
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        }
        phase = .console(ConsoleLogin(database: request.database, isAdmin: isAdmin))
        loginCompleted()
        logger.info("admin console login", metadata: ["admin": "\(isAdmin)"])
    }

    func consoleFrame(_ frame: Frame, login: ConsoleLogin) {
        switch frame.type {
        case .terminate:
            closeReason = "the client sent Terminate"
            phase = .closed
            connection.close()
            shards.clientGone(self)
        case .query:
            guard case .query(let text)? = try? FrontendMessage(frame: frame) else {
                fatal(.protocolViolation, "malformed Query message")
                return
            }
            if text.allSatisfy({ $0.isWhitespace || $0 == ";" }) {
                connection.write { buffer in
                    buffer.writeInteger(MessageType.emptyQueryResponse.rawValue)  // Byte1: EmptyQueryResponse
                    buffer.writeInteger(Int32(4))  // Int32: length, no body
                    BackendMessage.readyForQuery(.idle).encode(into: &buffer)
                }
                return
            }
            let plane = shards.plane
            switch AdminConsole(backend: plane).run(text, isAdmin: login.isAdmin) {
            case .done(let result): answer(.success(result), login: login)
            case .failed(let error): answer(.failure(error), login: login)
            case .afterQuiescence(let database, let result):
                phase = .consoleBusy(login)
                awaitQuiescence(database: database, then: result, login: login)
            case .later(let start):
                phase = .consoleBusy(login)
                let loop = self.loop
                let shards = self.shards
                let id = self.id
                start { outcome in
                    loop.execute { shards.clients[id]?.answerLater(outcome, login: login) }
                }
            }
        case .sync:
            connection.write { BackendMessage.readyForQuery(.idle).encode(into: &$0) }
        default:
            connection.write { buffer in
                ErrorResponse(severity: .error, code: .featureNotSupported,
                    message: "the admin console speaks the simple query protocol only").encode(into: &buffer)
            }
        }
    }

    /// An answer gathered from the loops arrived (on this loop).
    private func answerLater(_ outcome: Result<ResultSet, ErrorResponse>, login: ConsoleLogin) {
        guard case .consoleBusy = phase else { return }
        phase = .console(login)
        answer(outcome, login: login)
        do throws(WireError) {
            try readFrames()
        } catch {
            fatal(error.sqlState, String(describing: error))
        }
    }

    private func answer(_ outcome: Result<ResultSet, ErrorResponse>, login: ConsoleLogin) {
        connection.write { buffer in
            switch outcome {
            case .success(let result): result.encode(into: &buffer)
            case .failure(let error): error.encode(into: &buffer)
            }
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        }
    }

    /// PAUSE: asks the loops every 20 ms whether any server of the database is still lent out; once none is,
    /// closes the servers (PgBouncer's PAUSE leaves none open) and answers.
    private func awaitQuiescence(database: String?, then result: ResultSet, login: ConsoleLogin) {
        let loop = self.loop
        let shards = self.shards
        let id = self.id
        shards.plane.isQuiescent(database: database) { quiet in
            loop.execute {
                guard let client = shards.clients[id], case .consoleBusy = client.phase else { return }
                guard quiet else {
                    _ = loop.schedule(at: loop.now + .milliseconds(20)) {
                        shards.clients[id]?.awaitQuiescence(database: database, then: result, login: login)
                    }
                    return
                }
                shards.plane.reconnect(database: database)
                client.answerLater(.success(result), login: login)
            }
        }
    }
}
