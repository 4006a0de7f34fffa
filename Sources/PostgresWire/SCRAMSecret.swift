/// What a server stores to verify SCRAM-SHA-256 logins without knowing the password: salt, iteration count,
/// StoredKey = H(ClientKey) and ServerKey (RFC 5802 section 3).
public struct SCRAMSecret: Sendable, Equatable {
    /// i: PBKDF2 iteration count (PostgreSQL's `scram_iterations`, 4096 by default).
    public var iterations: Int
    /// s: the salt, raw bytes (PostgreSQL uses 16 random bytes).
    public var salt: [UInt8]
    /// StoredKey = H(ClientKey), 32 bytes.
    public var storedKey: [UInt8]
    /// ServerKey = HMAC(SaltedPassword, "Server Key"), 32 bytes.
    public var serverKey: [UInt8]

    /// Wraps the parts of a secret.
    public init(iterations: Int, salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// Parses PostgreSQL's stored form `SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey
    /// base64>`; nil if the text is not exactly that form.
    public init?(parsing text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == SCRAM.mechanism else {
            return nil
        }
        let parameters = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        let keys = parts[2].split(separator: ":", omittingEmptySubsequences: false)
        guard parameters.count == 2, keys.count == 2,
            parameters[0].allSatisfy(\.isASCII),
            let iterations = Int(parameters[0]), iterations >= 1,
            let salt = Base64.decode(parameters[1]), !salt.isEmpty,
            let storedKey = Base64.decode(keys[0]), storedKey.count == 32,
            let serverKey = Base64.decode(keys[1]), serverKey.count == 32
        else {
            return nil
        }
        self.init(iterations: iterations, salt: salt, storedKey: storedKey, serverKey: serverKey)
    }

    /// Derives the secret from a password: SaltedPassword = Hi(password, salt, i) via PBKDF2-HMAC-SHA-256.
    ///
    /// The password's UTF-8 bytes are used as they are. PostgreSQL applies SASLprep first, which changes only
    /// passwords with certain non-ASCII characters; for those the secrets differ.
    public init(password: String, salt: [UInt8], iterations: Int = 4096) {
        let salted = SCRAM.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
        let (clientKey, serverKey) = SCRAM.keys(saltedPassword: salted)
        self.init(iterations: iterations, salt: salt, storedKey: SCRAM.hash(clientKey), serverKey: serverKey)
    }

    /// A secret no password matches, for running the exchange with a role that has none (unknown users): the
    /// same for the same `user` and `key`, as a real role's salt is, and made without PBKDF2, so a stream of
    /// logins for unknown roles costs no more than one for a real role with a stored secret.
    public static func decoy(user: String, key: [UInt8], iterations: Int = 4096) -> SCRAMSecret {
        let name = Array(user.utf8)
        return SCRAMSecret(
            iterations: iterations, salt: Array(SCRAM.hmac(key: key, Array("salt:".utf8) + name).prefix(16)),
            storedKey: SCRAM.hmac(key: key, Array("stored:".utf8) + name),
            serverKey: SCRAM.hmac(key: key, Array("server:".utf8) + name))
    }

    /// The stored form, as in `pg_authid.rolpassword` and `userlist.txt`.
    public var text: String {
        "\(SCRAM.mechanism)$\(self.iterations):\(Base64.encode(self.salt))$"
            + "\(Base64.encode(self.storedKey)):\(Base64.encode(self.serverKey))"
    }
}
