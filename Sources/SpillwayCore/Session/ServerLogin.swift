import PostgresWire

/// What Spillway knows to log in to PostgreSQL as a role.
public enum ServerCredentials: Sendable, Equatable {
    case none
    case password(String)
    /// Only "md5..." is known: enough for md5 authentication.
    case md5Hash(String)
    /// SCRAM keys recovered from a client's own SCRAM login (auth_file holds the SCRAM secret).
    case scramKeys(clientKey: [UInt8], serverKey: [UInt8])
}

/// Answers PostgreSQL's authentication requests for one server connection.
public struct ServerLogin: Sendable {
    /// The reply to an authentication request.
    public enum Step: Sendable, Equatable {
        /// Send this message and wait for the next request.
        case send(FrontendMessage)
        /// Nothing to send: wait for the next request.
        case wait
        /// AuthenticationOk: wait for ParameterStatus, BackendKeyData and ReadyForQuery.
        case authenticated
        /// Cannot log in: the reason names what is missing, never a secret.
        case failed(String)
    }

    public let user: String
    private let credentials: ServerCredentials
    private let nonce: String
    private var scram: SCRAMClient?
    private var scramVerified = false

    public init(user: String, credentials: ServerCredentials, randomBytes: [UInt8]) {
        self.user = user
        self.credentials = credentials
        self.nonce = Base64.encode(randomBytes.prefix(18))
    }

    public mutating func receive(_ request: AuthenticationRequest) -> Step {
        switch request {
        case .ok:
            // Mid-SCRAM, AuthenticationOk before a verified SASLFinal means the server never proved it knows
            // the secret.
            if scram != nil && !scramVerified {
                return .failed("server accepted the login without proving it knows the SCRAM secret")
            }
            return .authenticated
        case .cleartextPassword:
            guard case .password(let password) = credentials else {
                return .failed("server asked for a cleartext password and none is configured for user \"\(user)\"")
            }
            return .send(.password(Array(password.utf8)))
        case .md5Password(let salt):
            switch credentials {
            case .password(let password):
                return .send(.password(Array(MD5Password.response(user: user, password: password, salt: salt).utf8)))
            case .md5Hash(let hash):
                return .send(.password(Array(MD5Password.response(storedHash: hash, salt: salt).utf8)))
            default:
                return .failed("server asked for an md5 password and none is configured for user \"\(user)\"")
            }
        case .sasl(let mechanisms):
            guard mechanisms.contains("SCRAM-SHA-256") else {
                return .failed("server offered SASL mechanisms \(mechanisms) and spillway speaks SCRAM-SHA-256 only")
            }
            let clientCredentials: SCRAMClient.Credentials
            switch credentials {
            case .password(let password): clientCredentials = .password(password)
            case .scramKeys(let clientKey, let serverKey):
                clientCredentials = .keys(clientKey: clientKey, serverKey: serverKey)
            default:
                return .failed(
                    "server asked for SCRAM-SHA-256 and no password or SCRAM login is available for user \"\(user)\""
                )
            }
            var client = SCRAMClient(credentials: clientCredentials, clientNonce: nonce)
            let first = client.clientFirstMessage()
            scram = client
            return .send(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: first))
        case .saslContinue(let data):
            guard var client = scram else { return .failed("server sent SASLContinue before SASL") }
            do {
                let final = try client.receiveServerFirst(data)
                scram = client
                return .send(.saslResponse(final))
            } catch {
                return .failed("SCRAM exchange with server failed: \(error.message)")
            }
        case .saslFinal(let data):
            guard var client = scram else { return .failed("server sent SASLFinal before SASL") }
            do {
                try client.receiveServerFinal(data)
                scram = client
                scramVerified = true
                return .wait  // AuthenticationOk follows
            } catch {
                return .failed("server's SCRAM signature did not verify: \(error.message)")
            }
        case .other(let code):
            return .failed("server asked for authentication method \(code), which spillway does not support")
        }
    }
}
