import NIOCore
import PostgresWire
import SpillwayCore

/// A client's way in on the engine: startup packet, authentication, its pool, the ParameterStatus set.
extension ClientDriver {
    func readStartup() throws(WireError) {
        while case .startup(var startup) = phase, let packet = try startup.next() {
            phase = .startup(startup)
            switch packet {
            case .sslRequest, .gssEncRequest:
                // No TLS yet: 'N' tells the client to go on in plain text.
                connection.write { $0.writeInteger(UInt8(ascii: "N")) }
            case .cancel(let request):
                shards.plane.cancel(request)
                phase = .closed
                connection.close()
                shards.clientGone(self)
                return
            case .startup(let message):
                let rest = startup.drain()
                begin(message)
                if let rest { decoder.append(rest) }
                try readFrames()
                return
            }
        }
    }

    private func begin(_ message: StartupMessage) {
        let requestedDatabase = message.database.flatMap { $0.isEmpty ? nil : $0 } ?? message.user ?? ""
        // The admin console never waits behind application traffic: it is not counted against max_client_conn.
        let isConsole = AdminConsole.databaseNames.contains(requestedDatabase)
        // Break-glass users get in during exhaustion too: that is what they are for.
        let isBreakGlass = message.user.map { runtime.settings.breakGlassUsers.contains($0) } ?? false
        guard admitted || isConsole || isBreakGlass else {
            fatal(.tooManyConnections, "no more connections allowed (max_client_conn)",
                detail: "Spillway already serves max_client_conn = \(runtime.settings.maxClientConn) clients.")
            return
        }
        guard let user = message.user, !user.isEmpty else {
            fatal(.invalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet")
            return
        }
        self.user = user
        let database = message.database.flatMap { $0.isEmpty ? nil : $0 } ?? user
        let ignored = Set(runtime.settings.ignoreStartupParameters.map { $0.lowercased() })
        for (name, value) in message.parameters {
            let lower = name.lowercased()
            if lower == "user" || lower == "database" || ignored.contains(lower) { continue }
            if wantedParameters.set(name, value) { continue }
            if lower == "options" && value.isEmpty { continue }
            fatal(.protocolViolation, "unsupported startup parameter: \(name)",
                hint: "Add \(name) to ignore_startup_parameters to let such clients connect.")
            return
        }
        tag.application = wantedParameters["application_name"].flatMap { $0.isEmpty ? nil : $0 } ?? remoteHost
        let request = LoginRequest(user: user, database: database)
        var stored = runtime.storedPassword(user: user)
        if stored == nil, runtime.settings.authType == .trust, runtime.settings.authFile == nil {
            stored = .plain("")  // trust without auth_file: any role may log in, as PostgreSQL's trust
        }
        var plainSecret: SCRAMSecret?
        if case .plain(let password)? = stored, runtime.settings.authType == .scramSHA256 {
            plainSecret = runtime.scramSecret(user: user, password: password)
        }
        var login = ClientLogin(authType: runtime.settings.authType, user: user, stored: stored,
            randomBytes: SecureRandom.bytes(18), plainSecret: plainSecret)
        if runtime.settings.authType == .trust && stored == nil {
            fatal(.invalidPassword, "password authentication failed for user \"\(user)\"")
            return
        }
        advanceLogin(login.start(), login: login, request: request)
    }

    func advanceLogin(_ step: ClientLogin.Step, login: ClientLogin, request: LoginRequest) {
        switch step {
        case .send(let authRequest):
            phase = .authenticating(Authentication(login: login, request: request))
            connection.write { BackendMessage.authentication(authRequest).encode(into: &$0) }
        case .succeeded(let saslFinal, let clientKey):
            connection.write { buffer in
                if let saslFinal { BackendMessage.authentication(.saslFinal(data: saslFinal)).encode(into: &buffer) }
                BackendMessage.authentication(.ok).encode(into: &buffer)
            }
            authenticated(request, clientKey: clientKey)
        case .failed(let reason):
            logger.info("client login failed", metadata: ["reason": "\(reason)"])
            fatal(.invalidPassword, "password authentication failed for user \"\(request.user)\"")
        }
    }

    private func authenticated(_ request: LoginRequest, clientKey: [UInt8]?) {
        if AdminConsole.databaseNames.contains(request.database) {
            startConsole(request)
            return
        }
        let config = runtime.config
        guard let database = config.database(named: request.database) else {
            fatal(.invalidCatalogName, "no such database: \"\(request.database)\"",
                hint: "Spillway serves the databases listed in [databases] of its configuration.")
            return
        }
        if shards.plane.isDisabled(database: request.database) {
            fatal(.cannotConnectNow, "database \"\(request.database)\" does not allow connections",
                detail: "An administrator ran DISABLE \(request.database); ENABLE lets clients in again.")
            return
        }
        if let refusal = shards.plane.admit(
            database: database, user: request.user, application: tag.application, runtime: runtime)
        {
            logger.warning("client refused", metadata: ["reason": "\(refusal.message)"])
            fatal(.tooManyConnections, refusal.message, detail: refusal.detail, hint: refusal.hint)
            return
        }
        countedAtLogin = true
        let serverUser = database.user ?? request.user
        let credentials = serverCredentials(
            database: database, serverUser: serverUser, clientUser: request.user, clientKey: clientKey)
        let key = PoolKey(database: request.database, user: serverUser)
        session = ClientSession(mode: config.poolMode(database: database, user: request.user))
        pool = key
        let site = shards.site(for: key, database: database, user: request.user, credentials: credentials)
        self.site = site
        cancelKey = shards.plane.register(self)
        if let parameters = site.info.parameters {
            finishLogin(serverParameters: parameters)
        } else {
            phase = .fetchingParameters
            connection.pauseReading()  // nothing is expected from the client until its login completes
            acquire(key)
        }
    }

    private func serverCredentials(
        database: DatabaseConfig, serverUser: String, clientUser: String, clientKey: [UInt8]?
    ) -> ServerCredentials {
        if let password = database.password { return .password(password) }
        switch runtime.storedPassword(user: serverUser) {
        case .plain(let password): return .password(password)
        case .md5(let hash): return .md5Hash(hash)
        case .scram(let secret):
            if serverUser == clientUser, let clientKey {
                return .scramKeys(clientKey: clientKey, serverKey: secret.serverKey)
            }
            return .none
        case nil: return .none
        }
    }

    func finishLogin(serverParameters: [(name: String, value: String)]) {
        guard let cancelKey else { return }
        connection.write { buffer in
            for (name, value) in serverParameters {
                // A setting the client did not choose takes the pool's default, so whatever another client set
                // on a shared server is undone before this client's statements run.
                if self.wantedParameters[name] == nil { _ = self.wantedParameters.set(name, value) }
                let shown = self.wantedParameters[name] ?? value
                BackendMessage.parameterStatus(name: name, value: shown).encode(into: &buffer)
            }
            BackendMessage.backendKeyData(cancelKey).encode(into: &buffer)
            BackendMessage.readyForQuery(.idle).encode(into: &buffer)
        }
        phase = .ready
        readyAt = loop.nanos
        connection.resumeReading()
        loginCompleted()
        if runtime.settings.logConnections {
            logger.info("client logged in", metadata: ["mode": "\(session.mode.rawValue)"])
        }
        do throws(WireError) {
            try readFrames()
        } catch {
            fatal(error.sqlState, String(describing: error))
        }
    }

    /// The login is over (to a pool or the console): its timer stops, and messages may now be as large as
    /// max_packet_size.
    func loginCompleted() {
        if let timer = loginTimer {
            loop.cancel(timer)
            loginTimer = nil
        }
        let rest = decoder.drain()
        decoder = FrameDecoder(maxMessageSize: runtime.settings.maxPacketSize)
        if let rest { decoder.append(rest) }
    }
}
