import PostgresWire
import Testing

/// SCRAM-SHA-256: secrets, the server side, the client side, and the two against each other.
struct SCRAMTests {
    /// RFC 7677 section 3: the example exchange for user "user", password "pencil".
    enum RFC7677 {
        static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
        static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        static let salt = Base64.decode("W22ZaJ0SNY7soEsUEjb6gQ==")!
        static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        static let serverFirst =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        static let clientFinal =
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        static let secret = SCRAMSecret(password: "pencil", salt: salt, iterations: 4096)
    }

    /// What PostgreSQL 15 stored for `CREATE ROLE alice PASSWORD 'pencil'` (scram-sha-256, random salt).
    static let postgresSecret =
        "SCRAM-SHA-256$4096:G5yHROc2QuCuVMevEZF9gg==$VakSDU4F11sSKjC8DGB8nG7V9Uod5BRNixZAnfzNzv4="
        + ":9/ZMiXQYmplj7bAc6OOATl2mTq2SQB8lpx/oSc75h5c="

    /// Runs a whole exchange between a client and a server; returns the server for its clientKey.
    static func exchange(
        _ client: inout SCRAMClient,
        _ server: inout SCRAMServer
    ) throws(SCRAMError) {
        let serverFirst = try server.receiveClientFirst(client.clientFirstMessage())
        let clientFinal = try client.receiveServerFirst(serverFirst)
        let serverFinal = try server.receiveClientFinal(clientFinal)
        try client.receiveServerFinal(serverFinal)
    }

    /// The client, given the RFC's nonce and server-first, sends the RFC's client-final and accepts its server-final.
    @Test func clientMatchesRFC7677() throws {
        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: RFC7677.clientNonce, username: "user")
        #expect(String(decoding: client.clientFirstMessage(), as: UTF8.self) == RFC7677.clientFirst)
        let clientFinal = try client.receiveServerFirst(Array(RFC7677.serverFirst.utf8))
        #expect(String(decoding: clientFinal, as: UTF8.self) == RFC7677.clientFinal)
        try client.receiveServerFinal(Array(RFC7677.serverFinal.utf8))
    }

    /// The server, given the RFC's client messages and server nonce, answers exactly as the RFC does.
    @Test func serverMatchesRFC7677() throws {
        var server = SCRAMServer(secret: RFC7677.secret, serverNonce: RFC7677.serverNonce)
        let serverFirst = try server.receiveClientFirst(Array(RFC7677.clientFirst.utf8))
        #expect(String(decoding: serverFirst, as: UTF8.self) == RFC7677.serverFirst)
        let serverFinal = try server.receiveClientFinal(Array(RFC7677.clientFinal.utf8))
        #expect(String(decoding: serverFinal, as: UTF8.self) == RFC7677.serverFinal)
        #expect(server.clientKey?.count == 32)
    }

    /// SCRAMClient and SCRAMServer complete an exchange with libpq's empty user name.
    @Test func clientAndServerAgree() throws {
        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: "Y2xpZW50bm9uY2UxMjM0NTY3")
        #expect(String(decoding: client.clientFirstMessage(), as: UTF8.self) == "n,,n=,r=Y2xpZW50bm9uY2UxMjM0NTY3")
        var server = SCRAMServer(secret: RFC7677.secret, serverNonce: "c2VydmVybm9uY2UxMjM0NTY3")
        try Self.exchange(&client, &server)
        #expect(server.clientKey != nil)
    }

    /// A wrong password fails at the server with no client key, and the exchange cannot be retried.
    @Test func wrongPasswordIsRejected() throws {
        var client = SCRAMClient(credentials: .password("pencils"), clientNonce: "abc")
        var server = SCRAMServer(secret: RFC7677.secret, serverNonce: "def")
        let serverFirst = try server.receiveClientFirst(client.clientFirstMessage())
        let clientFinal = try client.receiveServerFirst(serverFirst)
        #expect(throws: SCRAMError("invalid scram client proof")) { try server.receiveClientFinal(clientFinal) }
        #expect(server.clientKey == nil)
        #expect(throws: SCRAMError.self) { try server.receiveClientFinal(clientFinal) }
    }

    /// The client key learned from one login lets Spillway log in to a second server with the same secret.
    @Test func clientKeyFromLoginLogsInElsewhere() throws {
        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: "client1")
        var front = SCRAMServer(secret: RFC7677.secret, serverNonce: "server1")
        try Self.exchange(&client, &front)
        let clientKey = try #require(front.clientKey)

        var pooler = SCRAMClient(
            credentials: .keys(clientKey: clientKey, serverKey: RFC7677.secret.serverKey),
            clientNonce: "client2"
        )
        var postgres = SCRAMServer(secret: RFC7677.secret, serverNonce: "server2")
        try Self.exchange(&pooler, &postgres)
        #expect(postgres.clientKey == clientKey)
    }

    /// Keys with the wrong ServerKey pass the server but fail the client's check of the server signature.
    @Test func wrongServerKeyFailsServerSignature() throws {
        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: "client1")
        var front = SCRAMServer(secret: RFC7677.secret, serverNonce: "server1")
        try Self.exchange(&client, &front)
        var pooler = SCRAMClient(
            credentials: .keys(clientKey: front.clientKey!, serverKey: [UInt8](repeating: 7, count: 32)),
            clientNonce: "client2"
        )
        var postgres = SCRAMServer(secret: RFC7677.secret, serverNonce: "server2")
        #expect(throws: SCRAMError("invalid scram server signature")) { try Self.exchange(&pooler, &postgres) }
    }

    /// The client refuses a server-final carrying e= and a server nonce that does not extend its own.
    @Test func clientRejectsServerErrors() throws {
        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: RFC7677.clientNonce, username: "user")
        _ = client.clientFirstMessage()
        _ = try client.receiveServerFirst(Array(RFC7677.serverFirst.utf8))
        #expect(throws: SCRAMError("scram authentication rejected by server: invalid-proof")) {
            try client.receiveServerFinal(Array("e=invalid-proof".utf8))
        }

        var other = SCRAMClient(credentials: .password("pencil"), clientNonce: "abc")
        _ = other.clientFirstMessage()
        #expect(throws: SCRAMError.self) { try other.receiveServerFirst(Array("r=xyz123,s=c2FsdA==,i=4096".utf8)) }
        var bare = SCRAMClient(credentials: .password("pencil"), clientNonce: "abc")
        _ = bare.clientFirstMessage()
        #expect(throws: SCRAMError.self) { try bare.receiveServerFirst(Array("r=abc,s=c2FsdA==,i=4096".utf8)) }
        var noIterations = SCRAMClient(credentials: .password("pencil"), clientNonce: "abc")
        _ = noIterations.clientFirstMessage()
        #expect(throws: SCRAMError.self) { try noIterations.receiveServerFirst(Array("r=abcd,s=c2FsdA==,i=0".utf8)) }
    }

    /// The server refuses channel binding, an authorization identity, mandatory extensions and bad nonces.
    @Test(arguments: [
        "p=tls-server-end-point,,n=,r=abc",
        "n,a=admin,n=,r=abc",
        "n,,m=ext,n=,r=abc",
        "n,,n=,r=",
        "n,,n=,r=ab\u{7F}c",
        "x,,n=,r=abc",
        "n,,n=",
        "",
    ])
    func serverRejectsClientFirst(message: String) {
        var server = SCRAMServer(secret: RFC7677.secret, serverNonce: "def")
        #expect(throws: SCRAMError.self) { try server.receiveClientFirst(Array(message.utf8)) }
    }

    /// A client using gs2 flag "y" (it could bind, but sees no -PLUS offered) logs in with c=eSws; the proof and
    /// signature were computed with Python's hashlib over the RFC 7677 exchange with "y,," in place of "n,,".
    @Test func serverAcceptsYFlag() throws {
        let clientFinal =
            "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=FoqiHTtQEDE8lz1CdaEe3tK4mS+iMDTl77SPyDS53DY="
        var server = SCRAMServer(secret: RFC7677.secret, serverNonce: RFC7677.serverNonce)
        _ = try server.receiveClientFirst(Array("y,,n=user,r=rOprNGfwEbeRWgbNEkqO".utf8))
        var mismatched = server
        #expect(throws: SCRAMError("scram channel binding does not match")) {
            try mismatched.receiveClientFinal(Array(RFC7677.clientFinal.utf8))  // c=biws, but the header was "y,,"
        }
        let serverFinal = try server.receiveClientFinal(Array(clientFinal.utf8))
        #expect(String(decoding: serverFinal, as: UTF8.self) == "v=dI4KpiQJwBr1+V+K6U1dA6l6I4I9DUNXWND4pcpRU3U=")
    }

    /// The server refuses a client-final with a changed nonce or a missing proof, and messages out of order.
    @Test func serverRejectsBadClientFinal() throws {
        var server = SCRAMServer(secret: RFC7677.secret, serverNonce: RFC7677.serverNonce)
        #expect(throws: SCRAMError.self) { try server.receiveClientFinal(Array(RFC7677.clientFinal.utf8)) }

        let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        let proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        for final in [
            "c=biws,r=\(nonce)x,p=\(proof)",  // nonce changed
            "c=biws,r=\(nonce)",  // no proof
            "c=biws,r=\(nonce),p=dHzb",  // proof too short
            "c=biws,p=\(proof)",  // no nonce
            "r=\(nonce),p=\(proof)",  // no channel binding
            "c=bixx,r=\(nonce),p=\(proof)",  // channel binding not base64 of "n,,"
        ] {
            var fresh = SCRAMServer(secret: RFC7677.secret, serverNonce: RFC7677.serverNonce)
            _ = try fresh.receiveClientFirst(Array(RFC7677.clientFirst.utf8))
            #expect(throws: SCRAMError.self) { try fresh.receiveClientFinal(Array(final.utf8)) }
        }
    }

    /// The stored form round-trips through text, and the RFC secret prints as Python's hashlib computes it.
    @Test func secretTextRoundTrip() throws {
        let text = RFC7677.secret.text
        #expect(
            text == "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
                + ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        )
        #expect(SCRAMSecret(parsing: text) == RFC7677.secret)
    }

    /// A secret PostgreSQL generated parses, equals the one derived from its password and salt, and logs a client in.
    @Test func parsesPostgreSQLSecret() throws {
        let secret = try #require(SCRAMSecret(parsing: Self.postgresSecret))
        #expect(secret.iterations == 4096)
        #expect(secret.salt.count == 16)
        #expect(secret == SCRAMSecret(password: "pencil", salt: secret.salt, iterations: 4096))
        #expect(secret.text == Self.postgresSecret)

        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: "abc")
        var server = SCRAMServer(secret: secret, serverNonce: "def")
        try Self.exchange(&client, &server)
    }

    /// Salt and keys of the RFC 7677 secret, to build near-miss stored forms from.
    static let salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
    static let keys = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

    /// Text that is not exactly the stored form does not parse.
    @Test(arguments: [
        "md553f48b7c4b76a86ce72276c5755f217d",
        "SCRAM-SHA-1$4096:\(SCRAMTests.salt)$\(SCRAMTests.keys)",
        "SCRAM-SHA-256$0:\(SCRAMTests.salt)$\(SCRAMTests.keys)",
        "SCRAM-SHA-256$-1:\(SCRAMTests.salt)$\(SCRAMTests.keys)",
        "SCRAM-SHA-256$4096:\(SCRAMTests.salt)$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
        "SCRAM-SHA-256$4096:\(SCRAMTests.salt)$c2hvcnQ=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:!!!$\(SCRAMTests.keys)",
        "SCRAM-SHA-256$4096:\(SCRAMTests.salt)$\(SCRAMTests.keys)$",
        "SCRAM-SHA-256$4096:$\(SCRAMTests.keys)",
        "",
    ])
    func rejectsMalformedSecrets(text: String) {
        #expect(SCRAMSecret(parsing: text) == nil)
    }
}
