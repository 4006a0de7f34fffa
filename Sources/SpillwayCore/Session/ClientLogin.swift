import PostgresWire

/// Authenticates one client at login, as PostgreSQL would: trust, cleartext, md5 or SCRAM-SHA-256.
///
/// An unknown user goes through the same exchange as a known one and fails at the same point with the same
/// error, so role names cannot be probed.
public struct ClientLogin: Sendable {
    /// What to send the client next.
    public enum Step: Sendable, Equatable {
        /// Send this authentication request and wait for the client's answer.
        case send(AuthenticationRequest)
        /// Authenticated: send AuthenticationSASLFinal with `saslFinal` if present, then AuthenticationOk.
        /// `clientKey`: the SCRAM ClientKey recovered from the exchange, for logging in to PostgreSQL.
        case succeeded(saslFinal: [UInt8]?, clientKey: [UInt8]?)
        /// Wrong password, unknown user, or a malformed answer: 28P01, then close.
        case failed(reason: String)
    }

    private enum State: Sendable {
        case start
        case awaitingCleartext
        case awaitingMD5(salt: [UInt8])
        case awaitingSASLInitial(SCRAMServer)
        case awaitingSASLResponse(SCRAMServer)
        case done
    }

    public let user: String
    private let authType: AuthType
    private let stored: StoredPassword?
    /// The SCRAM secret of a plain `stored` password, derived once per role by the caller (PBKDF2 costs about
    /// as much CPU as a hundred transactions); derived here when absent.
    private let plainSecret: SCRAMSecret?
    private let salt: [UInt8]
    private let nonce: String
    private var state = State.start

    /// Key of the decoy secrets of unknown roles: random per process.
    static let decoyKey: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    /// `stored`: the role's entry in auth_file, nil when unknown. `randomBytes`: 18+ fresh random bytes.
    /// `plainSecret`: for a plain `stored` password, its SCRAM secret if the caller keeps one.
    public init(authType: AuthType, user: String, stored: StoredPassword?, randomBytes: [UInt8],
                plainSecret: SCRAMSecret? = nil) {
        precondition(randomBytes.count >= 18, "ClientLogin needs at least 18 random bytes")
        self.authType = authType
        self.user = user
        self.stored = stored
        self.plainSecret = plainSecret
        self.salt = Array(randomBytes.prefix(16))
        self.nonce = Base64.encode(randomBytes.prefix(18))
    }

    /// The first step after the startup packet.
    public mutating func start() -> Step {
        switch authType {
        case .trust, .any:
            // any: like trust, the user name is not checked either (PgBouncer's meaning).
            state = .done
            return .succeeded(saslFinal: nil, clientKey: nil)
        case .plain:
            state = .awaitingCleartext
            return .send(.cleartextPassword)
        case .md5:
            if case .scram = stored { return startSCRAM() }
            state = .awaitingMD5(salt: Array(salt.prefix(4)))
            return .send(.md5Password(salt: Array(salt.prefix(4))))
        case .scramSHA256:
            return startSCRAM()
        default:
            state = .done
            return .failed(reason: "auth_type \(authType.rawValue) is not supported")
        }
    }

    /// The client answered with a password message ('p'); `context` says how to read it.
    public var expectedContext: FrontendMessage.PasswordContext {
        switch state {
        case .awaitingSASLInitial: .saslInitial
        case .awaitingSASLResponse: .saslContinue
        default: .password
        }
    }

    /// The client's answer, decoded with `expectedContext`.
    public mutating func receive(_ message: FrontendMessage) -> Step {
        let current = state
        state = .done
        switch (current, message) {
        case (.awaitingCleartext, .password(let bytes)):
            return verifyCleartext(String(decoding: bytes, as: UTF8.self))
        case (.awaitingMD5(let salt), .password(let bytes)):
            return verifyMD5(String(decoding: bytes, as: UTF8.self), salt: salt)
        case (.awaitingSASLInitial(var server), .saslInitialResponse(let mechanism, let data)):
            guard mechanism == "SCRAM-SHA-256", let data else {
                return .failed(reason: "unsupported SASL mechanism")
            }
            do {
                let serverFirst = try server.receiveClientFirst(data)
                state = .awaitingSASLResponse(server)
                return .send(.saslContinue(data: serverFirst))
            } catch {
                return .failed(reason: error.message)
            }
        case (.awaitingSASLResponse(var server), .saslResponse(let data)):
            do {
                let serverFinal = try server.receiveClientFinal(data)
                // Only a real secret proves anything: unknown users and md5-only roles ran against a decoy.
                switch stored {
                case .scram, .plain: break
                case .md5: return .failed(reason: "role has only an md5 password; SCRAM cannot verify it")
                case nil: return .failed(reason: "no such user")
                }
                return .succeeded(saslFinal: serverFinal, clientKey: server.clientKey)
            } catch {
                return .failed(reason: error.message)
            }
        default:
            return .failed(reason: "unexpected authentication message")
        }
    }

    // MARK: Methods

    private mutating func startSCRAM() -> Step {
        let secret: SCRAMSecret
        switch stored {
        case .scram(let s):
            secret = s
        case .plain(let password):
            secret = plainSecret ?? SCRAMSecret(password: password, salt: salt, iterations: 4096)
        case .md5, nil:
            // Unknown user, or only an md5 hash: run the exchange against a secret nobody knows.
            secret = .decoy(user: user, key: Self.decoyKey)
        }
        state = .awaitingSASLInitial(SCRAMServer(secret: secret, serverNonce: nonce))
        return .send(.sasl(mechanisms: ["SCRAM-SHA-256"]))
    }

    private func verifyCleartext(_ password: String) -> Step {
        switch stored {
        case .plain(let expected) where constantTimeEqual(expected, password):
            return .succeeded(saslFinal: nil, clientKey: nil)
        case .md5(let hash) where constantTimeEqual(hash, MD5Password.storedHash(user: user, password: password)):
            return .succeeded(saslFinal: nil, clientKey: nil)
        case .scram(let secret):
            let derived = SCRAMSecret(password: password, salt: secret.salt, iterations: secret.iterations)
            if constantTimeEqual(derived.storedKey, secret.storedKey) {
                return .succeeded(saslFinal: nil, clientKey: nil)
            }
            return .failed(reason: "password does not match")
        default:
            return .failed(reason: stored == nil ? "no such user" : "password does not match")
        }
    }

    private func verifyMD5(_ response: String, salt: [UInt8]) -> Step {
        let hash: String
        switch stored {
        case .plain(let password): hash = MD5Password.storedHash(user: user, password: password)
        case .md5(let h): hash = h
        default: return .failed(reason: stored == nil ? "no such user" : "password does not match")
        }
        if constantTimeEqual(MD5Password.response(storedHash: hash, salt: salt), response) {
            return .succeeded(saslFinal: nil, clientKey: nil)
        }
        return .failed(reason: "password does not match")
    }
}

/// Compares without an early exit, so timing does not reveal how much of a secret matched.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    constantTimeEqual(Array(a.utf8), Array(b.utf8))
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in a.indices { diff |= a[i] ^ b[i] }
    return diff == 0
}
