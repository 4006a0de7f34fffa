/// Spillway as the SCRAM-SHA-256 client, logging in to PostgreSQL. No channel binding: the gs2 header is `n,,`.
///
/// Flow: `clientFirstMessage` → server-first → `receiveServerFirst` → client-final; server-final →
/// `receiveServerFinal`, which verifies the server's signature.
public struct SCRAMClient: Sendable {
    /// What the client proves knowledge of.
    public enum Credentials: Sendable {
        /// The password; the salt and iteration count come from the server.
        case password(String)
        /// ClientKey and ServerKey, e.g. taken from a client's login by `SCRAMServer.clientKey`; valid only
        /// against a server whose secret has the same salt and iteration count.
        case keys(clientKey: [UInt8], serverKey: [UInt8])
    }

    /// Where the exchange stands.
    private enum State: Sendable {
        /// Nothing sent yet. Next: `.sentClientFirst`.
        case initial
        /// Sent client-first; waiting for server-first. Next: `.sentClientFinal`, `.failed`.
        case sentClientFirst(clientFirstBare: [UInt8])
        /// Sent client-final; waiting for server-final with this signature. Next: `.succeeded`, `.failed`.
        case sentClientFinal(expectedServerSignature: [UInt8])
        /// The server proved it knows the secret. Final.
        case succeeded
        /// A message was rejected; every later call throws. Final.
        case failed
    }

    private let credentials: Credentials
    private let clientNonce: String
    private let username: String
    private var state = State.initial

    /// Starts an exchange. `clientNonce` must be random printable ASCII without ',' (base64 of 18 random bytes).
    /// `username` goes into client-first-message; PostgreSQL ignores it, so it is empty by default, as libpq sends.
    public init(credentials: Credentials, clientNonce: String, username: String = "") {
        precondition(SCRAM.isValidNonce(clientNonce.utf8), "SCRAM nonce must be printable ASCII without ','")
        if case .keys(let clientKey, let serverKey) = credentials {
            precondition(clientKey.count == 32 && serverKey.count == 32, "SCRAM-SHA-256 keys are 32 bytes")
        }
        self.credentials = credentials
        self.clientNonce = clientNonce
        self.username = username
    }

    /// client-first-message: `n,,n=<username>,r=<nonce>`, by default `n,,n=,r=<nonce>`: PostgreSQL takes the user
    /// from the StartupMessage.
    public mutating func clientFirstMessage() -> [UInt8] {
        // saslname: ',' and '=' are escaped as =2C and =3D
        var saslName = ""
        for character in self.username {
            switch character {
            case ",": saslName += "=2C"
            case "=": saslName += "=3D"
            default: saslName.append(character)
            }
        }
        let bare = Array("n=\(saslName),r=\(self.clientNonce)".utf8)
        self.state = .sentClientFirst(clientFirstBare: bare)
        return Array("n,,".utf8) + bare
    }

    /// Takes server-first-message `r=<nonce>,s=<salt>,i=<iterations>` and returns client-final-message
    /// `c=biws,r=<nonce>,p=<proof>`.
    public mutating func receiveServerFirst(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .sentClientFirst(let clientFirstBare) = self.state else {
            throw self.fail("unexpected scram server-first-message")
        }
        self.state = .failed  // until the message proves good
        let parts = SCRAM.attributes(message[...])
        try SCRAM.rejectMandatoryExtension(parts.first)
        let nonce = try SCRAM.expect("r", in: parts.first, "nonce")
        // The server's nonce extends ours.
        guard nonce.count > self.clientNonce.utf8.count, nonce.starts(with: self.clientNonce.utf8),
            SCRAM.isValidNonce(nonce)
        else {
            throw SCRAMError("scram server nonce does not extend the client nonce")
        }
        let saltText = try SCRAM.expect("s", in: parts.count > 1 ? parts[1] : nil, "salt")
        guard let salt = Base64.decode(String(decoding: saltText, as: UTF8.self)), !salt.isEmpty else {
            throw SCRAMError("malformed scram message: invalid salt")
        }
        let iterationText = try SCRAM.expect("i", in: parts.count > 2 ? parts[2] : nil, "iteration count")
        guard iterationText.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let iterations = Int(String(decoding: iterationText, as: UTF8.self)), iterations >= 1
        else {
            throw SCRAMError("malformed scram message: invalid iteration count")
        }
        let clientKey: [UInt8]
        let serverKey: [UInt8]
        switch self.credentials {
        case .password(let password):
            let salted = SCRAM.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
            (clientKey, serverKey) = SCRAM.keys(saltedPassword: salted)
        case .keys(let client, let server):
            (clientKey, serverKey) = (client, server)
        }
        // c=biws: base64 of the gs2 header "n,,"
        let clientFinalWithoutProof = Array("c=biws,r=".utf8) + Array(nonce)
        let authMessage = clientFirstBare + Array(",".utf8) + message + Array(",".utf8) + clientFinalWithoutProof
        let clientSignature = SCRAM.hmac(key: SCRAM.hash(clientKey), authMessage)
        let proof = SCRAM.xor(clientKey, clientSignature)
        self.state = .sentClientFinal(expectedServerSignature: SCRAM.hmac(key: serverKey, authMessage))
        return clientFinalWithoutProof + Array(",p=\(Base64.encode(proof))".utf8)
    }

    /// Takes server-final-message: `v=<signature>` is verified, `e=<error>` throws.
    public mutating func receiveServerFinal(_ message: [UInt8]) throws(SCRAMError) {
        guard case .sentClientFinal(let expected) = self.state else {
            throw self.fail("unexpected scram server-final-message")
        }
        self.state = .failed
        let parts = SCRAM.attributes(message[...])
        if let error = parts.first.flatMap({ SCRAM.value(of: "e", in: $0) }) {
            // server-error-value is a fixed token such as "invalid-proof": safe to show
            throw SCRAMError("scram authentication rejected by server: \(String(decoding: error, as: UTF8.self))")
        }
        let verifier = try SCRAM.expect("v", in: parts.first, "server signature")
        guard let signature = Base64.decode(String(decoding: verifier, as: UTF8.self)),
            SCRAM.constantTimeEquals(signature, expected)
        else {
            throw SCRAMError("invalid scram server signature")
        }
        self.state = .succeeded
    }

    /// Ends the exchange and returns the error to throw.
    private mutating func fail(_ message: String) -> SCRAMError {
        self.state = .failed
        return SCRAMError(message)
    }
}
