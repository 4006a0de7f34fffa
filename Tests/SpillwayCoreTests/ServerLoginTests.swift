import PostgresWire
import Testing

@testable import SpillwayCore

private let randomBytes: [UInt8] = (0..<18).map { UInt8(255 - $0 * 11) }
private let salt: [UInt8] = [0x93, 0x12, 0x7A, 0x05]
private let password = "s3cr3t pass"
private let md5Hash = MD5Password.storedHash(user: "app", password: password)

private func serverLogin(_ credentials: ServerCredentials) -> ServerLogin {
    ServerLogin(user: "app", credentials: credentials, randomBytes: randomBytes)
}

/// The reason of a failed step, or nil.
private func failure(_ step: ServerLogin.Step) -> String? {
    if case .failed(let reason) = step { return reason }
    return nil
}

/// Runs `login` through a whole SCRAM exchange against a real `SCRAMServer` playing PostgreSQL, as far as it
/// goes. Returns the last step and whether PostgreSQL accepted the proof.
private func scramAgainstPostgres(
    _ login: inout ServerLogin, secret: SCRAMSecret, mechanisms: [String] = ["SCRAM-SHA-256"]
) -> (last: ServerLogin.Step, proofAccepted: Bool) {
    var postgres = SCRAMServer(secret: secret, serverNonce: "pg-nonce-QWERTY")
    let initial = login.receive(.sasl(mechanisms: mechanisms))
    guard case .send(.saslInitialResponse(let mechanism, let clientFirst?)) = initial else { return (initial, false) }
    #expect(mechanism == "SCRAM-SHA-256")
    let serverFirst: [UInt8]
    do { serverFirst = try postgres.receiveClientFirst(clientFirst) } catch {
        Issue.record("PostgreSQL rejected client-first-message: \(error)")
        return (initial, false)
    }
    let response = login.receive(.saslContinue(data: serverFirst))
    guard case .send(.saslResponse(let clientFinal)) = response else { return (response, false) }
    let serverFinal: [UInt8]
    do { serverFinal = try postgres.receiveClientFinal(clientFinal) } catch { return (response, false) }
    let final = login.receive(.saslFinal(data: serverFinal))
    guard final == .wait else { return (final, true) }
    return (login.receive(.ok), true)
}

@Suite struct ServerLoginTests {
    static let secret = SCRAMSecret(password: password, salt: Array("0123456789abcdef".utf8), iterations: 4096)

    /// AuthenticationOk (trust on the server): logged in, nothing to send.
    @Test(arguments: [ServerCredentials.none, .password(password), .md5Hash(md5Hash)])
    func okAuthenticates(credentials: ServerCredentials) {
        var login = serverLogin(credentials)
        #expect(login.receive(.ok) == .authenticated)
    }

    // MARK: Cleartext

    /// AuthenticationCleartextPassword with a password: the password is sent as is.
    @Test func cleartextSendsPassword() {
        var login = serverLogin(.password(password))
        #expect(login.receive(.cleartextPassword) == .send(.password(Array(password.utf8))))
    }

    /// AuthenticationCleartextPassword without a cleartext password fails, naming the user, never a secret.
    @Test(arguments: [
        ServerCredentials.none, .md5Hash(md5Hash), .scramKeys(clientKey: Array(repeating: 1, count: 32),
                                                             serverKey: Array(repeating: 2, count: 32)),
    ])
    func cleartextWithoutPasswordFails(credentials: ServerCredentials) throws {
        var login = serverLogin(credentials)
        let reason = try #require(failure(login.receive(.cleartextPassword)))
        #expect(reason.contains("cleartext"))
        #expect(reason.contains("\"app\""))
        #expect(!reason.contains(md5Hash))
    }

    // MARK: md5

    /// AuthenticationMD5Password with the password: md5(md5(password + user) + salt).
    @Test func md5WithPasswordSendsResponse() {
        var login = serverLogin(.password(password))
        let expected = MD5Password.response(user: "app", password: password, salt: salt)
        #expect(login.receive(.md5Password(salt: salt)) == .send(.password(Array(expected.utf8))))
    }

    /// AuthenticationMD5Password with only the stored md5 hash: the same response, no password needed.
    @Test func md5WithHashSendsSameResponse() {
        var login = serverLogin(.md5Hash(md5Hash))
        let expected = MD5Password.response(user: "app", password: password, salt: salt)
        #expect(login.receive(.md5Password(salt: salt)) == .send(.password(Array(expected.utf8))))
    }

    /// AuthenticationMD5Password with nothing md5 can use fails with a readable reason.
    @Test(arguments: [
        ServerCredentials.none, .scramKeys(clientKey: Array(repeating: 1, count: 32),
                                           serverKey: Array(repeating: 2, count: 32)),
    ])
    func md5WithoutPasswordFails(credentials: ServerCredentials) throws {
        var login = serverLogin(credentials)
        let reason = try #require(failure(login.receive(.md5Password(salt: salt))))
        #expect(reason.contains("md5"))
        #expect(reason.contains("\"app\""))
    }

    // MARK: SCRAM-SHA-256

    /// SASL with the password, against a real SCRAM server: SASLInitialResponse, SASLResponse, the server's
    /// signature verifies on SASLFinal (nothing to send: `.wait`), then AuthenticationOk.
    @Test func scramWithPasswordLogsIn() {
        var login = serverLogin(.password(password))
        let (last, accepted) = scramAgainstPostgres(&login, secret: Self.secret)
        #expect(accepted)
        #expect(last == .authenticated)
    }

    /// SASL offering SCRAM-SHA-256-PLUS first: Spillway picks plain SCRAM-SHA-256.
    @Test func scramPicksPlainMechanismWhenPlusIsAlsoOffered() {
        var login = serverLogin(.password(password))
        let (last, accepted) = scramAgainstPostgres(
            &login, secret: Self.secret, mechanisms: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])
        #expect(accepted)
        #expect(last == .authenticated)
    }

    /// SASL with the keys recovered from a client's own SCRAM login: PostgreSQL accepts the proof and its
    /// signature verifies, without any password.
    @Test func scramWithKeysLogsIn() throws {
        // A client logs in to Spillway with the password; Spillway's SCRAMServer recovers its ClientKey.
        var spillway = SCRAMServer(secret: Self.secret, serverNonce: "spillway-nonce")
        var app = SCRAMClient(credentials: .password(password), clientNonce: "app-nonce")
        let serverFirst = try spillway.receiveClientFirst(app.clientFirstMessage())
        try app.receiveServerFinal(try spillway.receiveClientFinal(try app.receiveServerFirst(serverFirst)))
        let clientKey = try #require(spillway.clientKey)

        var login = serverLogin(.scramKeys(clientKey: clientKey, serverKey: Self.secret.serverKey))
        let (last, accepted) = scramAgainstPostgres(&login, secret: Self.secret)
        #expect(accepted)
        #expect(last == .authenticated)
    }

    /// SASL with the wrong password: PostgreSQL rejects the proof (it answers with an ErrorResponse, which the
    /// caller handles), so the exchange ends before SASLFinal.
    @Test func scramWithWrongPasswordIsRejectedByServer() {
        var login = serverLogin(.password("not it"))
        let (last, accepted) = scramAgainstPostgres(&login, secret: Self.secret)
        #expect(!accepted)
        guard case .send(.saslResponse) = last else {
            Issue.record("expected the exchange to stop after SASLResponse, got \(last)")
            return
        }
    }

    /// SASLFinal with a signature that does not verify (a server that does not know the secret) fails.
    @Test func scramWithBadServerSignatureFails() throws {
        var login = serverLogin(.password(password))
        var postgres = SCRAMServer(secret: Self.secret, serverNonce: "pg-nonce")
        guard case .send(.saslInitialResponse(_, let clientFirst?)) = login.receive(.sasl(mechanisms: ["SCRAM-SHA-256"]))
        else {
            Issue.record("expected SASLInitialResponse")
            return
        }
        _ = login.receive(.saslContinue(data: try postgres.receiveClientFirst(clientFirst)))
        let forged = Array("v=\(Base64.encode(Array(repeating: UInt8(7), count: 32)))".utf8)
        let reason = try #require(failure(login.receive(.saslFinal(data: forged))))
        #expect(reason.contains("signature"))
    }

    /// SASLFinal carrying `e=` (the server's error) fails with that error.
    @Test func scramServerErrorFails() throws {
        var login = serverLogin(.password(password))
        var postgres = SCRAMServer(secret: Self.secret, serverNonce: "pg-nonce")
        guard case .send(.saslInitialResponse(_, let clientFirst?)) = login.receive(.sasl(mechanisms: ["SCRAM-SHA-256"]))
        else {
            Issue.record("expected SASLInitialResponse")
            return
        }
        _ = login.receive(.saslContinue(data: try postgres.receiveClientFirst(clientFirst)))
        let reason = try #require(failure(login.receive(.saslFinal(data: Array("e=invalid-proof".utf8)))))
        #expect(reason.contains("invalid-proof"))
    }

    /// A malformed server-first-message fails the exchange.
    @Test func scramMalformedServerFirstFails() throws {
        var login = serverLogin(.password(password))
        _ = login.receive(.sasl(mechanisms: ["SCRAM-SHA-256"]))
        let reason = try #require(failure(login.receive(.saslContinue(data: Array("r=someone-else,s=AA==,i=1".utf8)))))
        #expect(reason.contains("SCRAM"))
    }

    /// SASL without SCRAM-SHA-256 among the mechanisms fails, listing what was offered.
    @Test func scramUnsupportedMechanismFails() throws {
        var login = serverLogin(.password(password))
        let reason = try #require(failure(login.receive(.sasl(mechanisms: ["SCRAM-SHA-256-PLUS"]))))
        #expect(reason.contains("SCRAM-SHA-256-PLUS"))
    }

    /// SASL with only an md5 hash, or nothing, fails: SCRAM needs the password or recovered keys.
    @Test(arguments: [ServerCredentials.none, .md5Hash(md5Hash)])
    func scramWithoutPasswordOrKeysFails(credentials: ServerCredentials) throws {
        var login = serverLogin(credentials)
        let reason = try #require(failure(login.receive(.sasl(mechanisms: ["SCRAM-SHA-256"]))))
        #expect(reason.contains("SCRAM-SHA-256"))
        #expect(reason.contains("\"app\""))
        #expect(!reason.contains(md5Hash))
    }

    /// SASLContinue or SASLFinal before AuthenticationSASL fails.
    @Test func saslMessagesBeforeSASLFail() {
        var early = serverLogin(.password(password))
        #expect(failure(early.receive(.saslContinue(data: Array("r=x,s=AA==,i=1".utf8)))) != nil)
        var final = serverLogin(.password(password))
        #expect(failure(final.receive(.saslFinal(data: Array("v=AA==".utf8)))) != nil)
    }

    // MARK: Unsupported

    /// Kerberos, GSS, SSPI: not supported; the reason names the method code and never a secret.
    @Test(arguments: [2, 7, 9] as [Int32])
    func unsupportedMethodFailsReadably(code: Int32) throws {
        var login = serverLogin(.password(password))
        let reason = try #require(failure(login.receive(.other(code: code))))
        #expect(reason.contains("\(code)"))
        #expect(reason.contains("not support"))
        #expect(!reason.contains(password))
    }
}
