/// Spillway as the SCRAM-SHA-256 server, authenticating a client against a stored `SCRAMSecret`.
///
/// Flow: client-first → `receiveClientFirst` → server-first; client-final → `receiveClientFinal` → server-final.
/// No channel binding: gs2 flags `n` and `y` are accepted, `p=` is refused (Spillway offers no SCRAM-SHA-256-PLUS).
public struct SCRAMServer: Sendable {
    /// Where the exchange stands.
    private enum State: Sendable {
        /// Waiting for the client-first-message. Next: `.sentServerFirst`, `.failed`.
        case initial
        /// Sent server-first; waiting for client-final. Next: `.succeeded`, `.failed`.
        case sentServerFirst(gs2Header: [UInt8], clientFirstBare: [UInt8], serverFirst: [UInt8], nonce: [UInt8])
        /// The proof was right; `clientKey` is set. Final.
        case succeeded
        /// A message was rejected; every later call throws. Final.
        case failed
    }

    private let secret: SCRAMSecret
    private let serverNonce: String
    private var state = State.initial

    /// After a successful `receiveClientFinal`: ClientKey = ClientProof XOR ClientSignature. Lets Spillway log in to
    /// PostgreSQL with the same secret without ever knowing the password.
    public private(set) var clientKey: [UInt8]?

    /// Starts an exchange. `serverNonce` must be random printable ASCII without ',' (base64 of 18 random bytes).
    public init(secret: SCRAMSecret, serverNonce: String) {
        precondition(SCRAM.isValidNonce(serverNonce.utf8), "SCRAM nonce must be printable ASCII without ','")
        self.secret = secret
        self.serverNonce = serverNonce
    }

    /// Takes client-first-message `gs2-header client-first-message-bare` and returns server-first-message
    /// `r=<client nonce + server nonce>,s=<salt>,i=<iterations>`.
    public mutating func receiveClientFirst(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .initial = self.state else {
            throw self.fail("unexpected scram client-first-message")
        }
        self.state = .failed  // until the message proves good
        let parts = SCRAM.attributes(message[...])
        // gs2-cbind-flag: "n" (client has no channel binding) or "y" (client thinks the server has none)
        guard let flag = parts.first else {
            throw SCRAMError("malformed scram message: expected channel binding flag")
        }
        if SCRAM.value(of: "p", in: flag) != nil {
            throw SCRAMError("scram channel binding is not supported")
        }
        guard flag.elementsEqual("n".utf8) || flag.elementsEqual("y".utf8) else {
            throw SCRAMError("malformed scram message: expected channel binding flag")
        }
        // authzid: must be empty; PostgreSQL does not support logging in as another identity either
        guard parts.count >= 4 else {
            throw SCRAMError("malformed scram message: expected client-first-message")
        }
        guard parts[1].isEmpty else {
            throw SCRAMError("scram authorization identity is not supported")
        }
        let gs2Header = Array(message[..<parts[2].startIndex])
        let clientFirstBare = Array(message[parts[2].startIndex...])
        try SCRAM.rejectMandatoryExtension(parts[2])
        // n=username: ignored, the user is the one in the StartupMessage (and libpq sends it empty)
        _ = try SCRAM.expect("n", in: parts[2], "username")
        let clientNonce = try SCRAM.expect("r", in: parts[3], "client nonce")
        guard SCRAM.isValidNonce(clientNonce) else {
            throw SCRAMError("malformed scram message: invalid client nonce")
        }
        // Attributes after r= are extensions, ignored.
        let nonce = Array(clientNonce) + Array(self.serverNonce.utf8)
        var serverFirst = Array("r=".utf8) + nonce
        serverFirst += Array(",s=\(Base64.encode(self.secret.salt)),i=\(self.secret.iterations)".utf8)
        self.state = .sentServerFirst(
            gs2Header: gs2Header,
            clientFirstBare: clientFirstBare,
            serverFirst: serverFirst,
            nonce: nonce
        )
        return serverFirst
    }

    /// Takes client-final-message `c=<gs2 header base64>,r=<nonce>,p=<proof>`, verifies the proof and returns
    /// server-final-message `v=<server signature>`. Throws on a wrong proof.
    public mutating func receiveClientFinal(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .sentServerFirst(let gs2Header, let clientFirstBare, let serverFirst, let nonce) = self.state else {
            throw self.fail("unexpected scram client-final-message")
        }
        self.state = .failed  // until the proof is verified
        let parts = SCRAM.attributes(message[...])
        // c=: base64 of the gs2 header, channel binding data being absent
        let binding = try SCRAM.expect("c", in: parts.first, "channel binding")
        guard let decoded = Base64.decode(String(decoding: binding, as: UTF8.self)), decoded == gs2Header else {
            throw SCRAMError("scram channel binding does not match")
        }
        let receivedNonce = try SCRAM.expect("r", in: parts.count > 1 ? parts[1] : nil, "nonce")
        guard receivedNonce.elementsEqual(nonce) else {
            throw SCRAMError("scram nonce does not match")
        }
        // p=: the proof, always the last attribute; extensions between r= and p= are ignored
        let proofAttribute = parts.count > 2 ? parts[parts.count - 1] : nil
        let proofText = try SCRAM.expect("p", in: proofAttribute, "client proof")
        guard let proof = Base64.decode(String(decoding: proofText, as: UTF8.self)), proof.count == 32 else {
            throw SCRAMError("malformed scram message: invalid client proof")
        }
        let clientFinalWithoutProof = Array(message[..<(proofAttribute!.startIndex - 1)])  // drop ",p=..."
        let authMessage = clientFirstBare + Array(",".utf8) + serverFirst + Array(",".utf8) + clientFinalWithoutProof
        let clientSignature = SCRAM.hmac(key: self.secret.storedKey, authMessage)
        let clientKey = SCRAM.xor(proof, clientSignature)
        guard SCRAM.constantTimeEquals(SCRAM.hash(clientKey), self.secret.storedKey) else {
            throw SCRAMError("invalid scram client proof")
        }
        self.clientKey = clientKey
        self.state = .succeeded
        let serverSignature = SCRAM.hmac(key: self.secret.serverKey, authMessage)
        return Array("v=\(Base64.encode(serverSignature))".utf8)
    }

    /// Ends the exchange and returns the error to throw.
    private mutating func fail(_ message: String) -> SCRAMError {
        self.state = .failed
        return SCRAMError(message)
    }
}
