import PostgresWire

/// The client's side of a login, from the StartupMessage to the first ReadyForQuery: answers the server's
/// authentication request (trust, cleartext, md5 or SCRAM-SHA-256) and collects ParameterStatus and
/// BackendKeyData. Frames in, actions out; it never touches a socket.
struct WireLogin {
    /// What the connection does next.
    enum Action: Equatable {
        /// Wait for more frames.
        case none
        /// Send this message, then wait for more frames.
        case send(FrontendMessage)
        /// Logged in: the server is ready for queries.
        case ready
        /// Give up: close the connection and throw this.
        case fail(WireClientError)
    }

    /// Where the login stands.
    private enum State {
        /// Waiting for an authentication request or AuthenticationOk. Next: `.scram`, `.authenticated`, `.done`.
        case authenticating
        /// In a SCRAM-SHA-256 exchange, waiting for SASLContinue or SASLFinal. Next: `.awaitingOk`, `.done`.
        case scram(SCRAMClient)
        /// The server's SCRAM signature checked out; waiting for AuthenticationOk. Next: `.authenticated`, `.done`.
        case awaitingOk
        /// AuthenticationOk arrived; waiting for ReadyForQuery. Next: `.done`.
        case authenticated
        /// Ready, or failed: nothing more is expected.
        case done
    }

    /// The role logging in (md5 hashes the password with it).
    let user: String
    /// The password; nil when the client expects trust.
    let password: String?
    /// The SCRAM client nonce: printable ASCII without ',', e.g. base64 of 18 random bytes.
    let nonce: String
    private var state = State.authenticating

    /// ParameterStatus values received so far (server_version, application_name ...).
    private(set) var parameters: [String: String] = [:]
    /// BackendKeyData, once received: what a CancelRequest for this session needs.
    private(set) var backendKey: CancelRequest?

    init(user: String, password: String?, nonce: String) {
        self.user = user
        self.password = password
        self.nonce = nonce
    }

    /// A fresh SCRAM nonce: base64 of 18 random bytes.
    static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64.encode((0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Takes one frame from the server.
    mutating func receive(_ frame: Frame) -> Action {
        let message: BackendMessage?
        do {
            message = try BackendMessage(frame: frame)
        } catch {
            return fail(.protocolViolation(error.description))
        }
        switch message {
        case .errorResponse(let response):
            return fail(.server(response))
        case .noticeResponse:
            return .none
        case .authentication(let request):
            return authenticate(request)
        case .parameterStatus(let name, let value):
            parameters[name] = value
            return .none
        case .backendKeyData(let key):
            backendKey = key
            return .none
        case .readyForQuery:
            guard case .authenticated = state else {
                return fail(.protocolViolation("ReadyForQuery before AuthenticationOk"))
            }
            state = .done
            return .ready
        case nil:
            return fail(.protocolViolation("unexpected message \(frame.type) during login"))
        }
    }

    /// Answers one Authentication message.
    private mutating func authenticate(_ request: AuthenticationRequest) -> Action {
        switch (state, request) {
        case (.authenticating, .ok), (.awaitingOk, .ok):
            state = .authenticated
            return .none
        case (.authenticating, .cleartextPassword):
            guard let password else {
                return fail(.authentication("the server asks for a password and none was given"))
            }
            return .send(.password(Array(password.utf8)))
        case (.authenticating, .md5Password(let salt)):
            guard let password else {
                return fail(.authentication("the server asks for a password and none was given"))
            }
            return .send(.password(Array(MD5Password.response(user: user, password: password, salt: salt).utf8)))
        case (.authenticating, .sasl(let mechanisms)):
            guard mechanisms.contains("SCRAM-SHA-256") else {
                return fail(.authentication("no supported SASL mechanism in \(mechanisms.joined(separator: ", "))"))
            }
            guard let password else {
                return fail(.authentication("the server asks for a password and none was given"))
            }
            var client = SCRAMClient(credentials: .password(password), clientNonce: nonce)
            let first = client.clientFirstMessage()
            state = .scram(client)
            return .send(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: first))
        case (.scram(var client), .saslContinue(let data)):
            do {
                let final = try client.receiveServerFirst(data)
                state = .scram(client)
                return .send(.saslResponse(final))
            } catch {
                return fail(.authentication(error.message))
            }
        case (.scram(var client), .saslFinal(let data)):
            do {
                try client.receiveServerFinal(data)
                state = .awaitingOk
                return .none
            } catch {
                return fail(.authentication(error.message))
            }
        case (.authenticating, .other(let code)):
            return fail(.authentication("unsupported authentication method (code \(code))"))
        default:
            return fail(.protocolViolation("unexpected authentication request \(request)"))
        }
    }

    /// Ends the login with `error`.
    private mutating func fail(_ error: WireClientError) -> Action {
        state = .done
        return .fail(error)
    }
}
