import PostgresWire
import Testing

@testable import SpillwayCore

/// 18 fixed "random" bytes: md5 salt = the first 4, SCRAM salt = the first 16, server nonce = base64 of all.
private let randomBytes: [UInt8] = (0..<18).map { UInt8($0 * 13 + 7) }
private let md5Salt = Array(randomBytes.prefix(4))
private let clientNonce = "fyko+d2lbbFgONRv9qkxdawL"

/// What a client-side step sequence ended with, for comparing two logins step by step.
private enum Outcome: Equatable, CustomStringConvertible {
    case sent(String)
    case succeeded
    case failed

    var description: String {
        switch self {
        case .sent(let request): "sent \(request)"
        case .succeeded: "succeeded"
        case .failed: "failed"
        }
    }
}

private func outcome(_ step: ClientLogin.Step) -> Outcome {
    switch step {
    case .send(let request):
        switch request {
        case .sasl: .sent("sasl")
        case .saslContinue: .sent("saslContinue")
        case .md5Password: .sent("md5")
        case .cleartextPassword: .sent("cleartext")
        default: .sent("\(request)")
        }
    case .succeeded: .succeeded
    case .failed: .failed
    }
}

private func login(_ authType: AuthType, user: String = "alice", stored: StoredPassword?) -> ClientLogin {
    ClientLogin(authType: authType, user: user, stored: stored, randomBytes: randomBytes)
}

/// A whole SCRAM exchange between a real `SCRAMClient` holding `credentials` and `login`. Returns every step
/// `login` took, and the client's verdict on the server's signature when it got one.
private func scramExchange(
    _ login: inout ClientLogin, credentials: SCRAMClient.Credentials, nonce: String = clientNonce
) -> (steps: [ClientLogin.Step], serverVerified: Bool?) {
    var steps: [ClientLogin.Step] = []
    let start = login.start()
    steps.append(start)
    guard start == .send(.sasl(mechanisms: ["SCRAM-SHA-256"])) else { return (steps, nil) }
    #expect(login.expectedContext == .saslInitial)

    var client = SCRAMClient(credentials: credentials, clientNonce: nonce)
    let continued = login.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: client.clientFirstMessage()))
    steps.append(continued)
    guard case .send(.saslContinue(let serverFirst)) = continued else { return (steps, nil) }
    #expect(login.expectedContext == .saslContinue)

    let clientFinal: [UInt8]
    do {
        clientFinal = try client.receiveServerFirst(serverFirst)
    } catch {
        Issue.record("client rejected server-first-message: \(error)")
        return (steps, nil)
    }
    let final = login.receive(.saslResponse(clientFinal))
    steps.append(final)
    guard case .succeeded(let saslFinal?, _) = final else { return (steps, nil) }
    do {
        try client.receiveServerFinal(saslFinal)
        return (steps, true)
    } catch {
        return (steps, false)
    }
}

/// The attribute `name=` of a SCRAM message.
private func scramAttribute(_ name: Character, in message: [UInt8]) -> String? {
    let text = String(decoding: message, as: UTF8.self)
    for part in text.split(separator: ",") where part.hasPrefix("\(name)=") {
        return String(part.dropFirst(2))
    }
    return nil
}

@Suite struct ClientLoginTests {
    static let secret = SCRAMSecret(password: "pencil", salt: Array("salt-of-alice-16".utf8), iterations: 4096)

    // MARK: trust

    /// auth_type trust: no password is asked.
    @Test func trustSucceedsWithoutAsking() {
        var trust = login(.trust, stored: .plain("pencil"))
        #expect(trust.start() == .succeeded(saslFinal: nil, clientKey: nil))
    }

    /// auth_type any: no password is asked and any user name is accepted (PgBouncer: "like trust, but the user
    /// name given is ignored"; AuthType.any says "No password asked").
    @Test func anyAuthTypeAsksNoPassword() {
        var any = login(.any, user: "whoever", stored: nil)
        #expect(any.start() == .succeeded(saslFinal: nil, clientKey: nil))
    }

    /// auth_type values Spillway does not implement fail at once, naming the method.
    @Test(arguments: [AuthType.hba, .cert, .pam])
    func unsupportedAuthTypeFailsNamingIt(authType: AuthType) {
        var unsupported = login(authType, stored: .plain("pencil"))
        guard case .failed(let reason) = unsupported.start() else {
            Issue.record("expected failure")
            return
        }
        #expect(reason.contains(authType.rawValue))
    }

    // MARK: plain

    /// auth_type plain: the cleartext password is checked against a plain, md5 or SCRAM entry.
    @Test(arguments: [
        StoredPassword.plain("pencil"),
        .md5(MD5Password.storedHash(user: "alice", password: "pencil")),
        .scram(ClientLoginTests.secret),
    ])
    func plainChecksCleartextPasswordAgainstEveryStoredForm(stored: StoredPassword) {
        var right = login(.plain, stored: stored)
        #expect(right.start() == .send(.cleartextPassword))
        #expect(right.expectedContext == .password)
        #expect(right.receive(.password(Array("pencil".utf8))) == .succeeded(saslFinal: nil, clientKey: nil))

        var wrong = login(.plain, stored: stored)
        _ = wrong.start()
        #expect(outcome(wrong.receive(.password(Array("pencil2".utf8)))) == .failed)
    }

    /// auth_type plain: the md5 hash itself is not a password.
    @Test func plainRejectsTheStoredMD5HashAsPassword() {
        let hash = MD5Password.storedHash(user: "alice", password: "pencil")
        var replay = login(.plain, stored: .md5(hash))
        _ = replay.start()
        #expect(outcome(replay.receive(.password(Array(hash.utf8)))) == .failed)
    }

    // MARK: md5

    /// auth_type md5: the challenge carries 4 salt bytes; the response computed from the password is accepted
    /// against a plain or an md5 entry, another password's is not.
    @Test(arguments: [StoredPassword.plain("pencil"), .md5(MD5Password.storedHash(user: "alice", password: "pencil"))])
    func md5ChecksResponseAgainstPlainAndMD5Stored(stored: StoredPassword) {
        var right = login(.md5, stored: stored)
        #expect(right.start() == .send(.md5Password(salt: md5Salt)))
        #expect(right.expectedContext == .password)
        let response = MD5Password.response(user: "alice", password: "pencil", salt: md5Salt)
        #expect(right.receive(.password(Array(response.utf8))) == .succeeded(saslFinal: nil, clientKey: nil))

        var wrong = login(.md5, stored: stored)
        _ = wrong.start()
        let wrongResponse = MD5Password.response(user: "alice", password: "pencil2", salt: md5Salt)
        #expect(outcome(wrong.receive(.password(Array(wrongResponse.utf8)))) == .failed)
    }

    /// auth_type md5: the user name is part of the hash; the same password for another role does not match.
    @Test func md5ResponseForAnotherUserFails() {
        var other = login(.md5, stored: .plain("pencil"))
        _ = other.start()
        let response = MD5Password.response(user: "bob", password: "pencil", salt: md5Salt)
        #expect(outcome(other.receive(.password(Array(response.utf8)))) == .failed)
    }

    /// auth_type md5: a response computed with another salt (a replayed one) fails.
    @Test func md5ResponseWithStaleSaltFails() {
        var replay = login(.md5, stored: .plain("pencil"))
        _ = replay.start()
        let response = MD5Password.response(user: "alice", password: "pencil", salt: [1, 2, 3, 4])
        #expect(outcome(replay.receive(.password(Array(response.utf8)))) == .failed)
    }

    /// auth_type md5 with a SCRAM secret stored: md5 cannot be checked, so the login falls back to SCRAM, as
    /// PostgreSQL does.
    @Test func md5WithSCRAMSecretFallsBackToSCRAM() {
        var md5 = login(.md5, stored: .scram(Self.secret))
        let (steps, verified) = scramExchange(&md5, credentials: .password("pencil"))
        #expect(steps.map(outcome) == [.sent("sasl"), .sent("saslContinue"), .succeeded])
        #expect(verified == true)
    }

    // MARK: scram-sha-256

    /// scram-sha-256 against a stored SCRAM secret: the real client logs in, verifies the server's signature,
    /// and the server-first-message carries the secret's salt and iteration count.
    @Test func scramWithRightPasswordSucceeds() {
        var scram = login(.scramSHA256, stored: .scram(Self.secret))
        let (steps, verified) = scramExchange(&scram, credentials: .password("pencil"))
        #expect(steps.map(outcome) == [.sent("sasl"), .sent("saslContinue"), .succeeded])
        #expect(verified == true)
        if case .send(.saslContinue(let serverFirst)) = steps[1] {
            #expect(scramAttribute("s", in: serverFirst) == Base64.encode(Self.secret.salt))
            #expect(scramAttribute("i", in: serverFirst) == "4096")
            #expect(scramAttribute("r", in: serverFirst) == clientNonce + Base64.encode(randomBytes))
        }
        if case .succeeded(_, let clientKey) = steps[2] {
            #expect(clientKey?.count == 32)
        }
    }

    /// scram-sha-256 against a plain entry: the exchange runs against a secret derived for this login.
    @Test func scramWithPlainStoredSucceeds() {
        var scram = login(.scramSHA256, stored: .plain("pencil"))
        let (steps, verified) = scramExchange(&scram, credentials: .password("pencil"))
        #expect(steps.map(outcome) == [.sent("sasl"), .sent("saslContinue"), .succeeded])
        #expect(verified == true)
    }

    /// A plain entry with the secret the caller keeps for it: the exchange runs against that secret (its salt is
    /// what the client sees), so no PBKDF2 runs at this login, and the right password still passes.
    @Test func scramWithPlainStoredUsesTheKeptSecret() {
        var scram = ClientLogin(authType: .scramSHA256, user: "alice", stored: .plain("pencil"),
                                randomBytes: randomBytes, plainSecret: Self.secret)
        _ = scram.start()
        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: clientNonce)
        guard case .send(.saslContinue(let serverFirst)) =
            scram.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: client.clientFirstMessage()))
        else {
            Issue.record("expected server-first-message")
            return
        }
        #expect(scramAttribute("s", in: serverFirst) == Base64.encode(Self.secret.salt))

        var again = ClientLogin(authType: .scramSHA256, user: "alice", stored: .plain("pencil"),
                                randomBytes: randomBytes, plainSecret: Self.secret)
        let (steps, verified) = scramExchange(&again, credentials: .password("pencil"))
        #expect(steps.map(outcome) == [.sent("sasl"), .sent("saslContinue"), .succeeded])
        #expect(verified == true)
    }

    /// An unknown role's decoy secret keeps its salt from login to login, as a real role's does (a salt that
    /// changed at every attempt would tell role names apart), and differs between roles.
    @Test func unknownUserSaltIsStableAndPerRole() {
        func salt(_ user: String, _ bytes: [UInt8]) -> String? {
            var unknown = ClientLogin(authType: .scramSHA256, user: user, stored: nil, randomBytes: bytes)
            _ = unknown.start()
            var client = SCRAMClient(credentials: .password("guess"), clientNonce: clientNonce)
            guard case .send(.saslContinue(let serverFirst)) =
                unknown.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: client.clientFirstMessage()))
            else { return nil }
            return scramAttribute("s", in: serverFirst)
        }
        let otherBytes = randomBytes.map { $0 &+ 1 }
        #expect(salt("mallory", randomBytes) != nil)
        #expect(salt("mallory", randomBytes) == salt("mallory", otherBytes))
        #expect(salt("mallory", randomBytes) != salt("eve", randomBytes))
    }

    /// scram-sha-256 with the wrong password fails on the client-final-message.
    @Test(arguments: [StoredPassword.scram(ClientLoginTests.secret), .plain("pencil")])
    func scramWithWrongPasswordFails(stored: StoredPassword) {
        var scram = login(.scramSHA256, stored: stored)
        let (steps, _) = scramExchange(&scram, credentials: .password("pencil2"))
        #expect(steps.map(outcome) == [.sent("sasl"), .sent("saslContinue"), .failed])
    }

    /// The ClientKey recovered from a client's SCRAM login is what Spillway needs to log in to PostgreSQL as that
    /// role: with the secret's ServerKey it passes a SCRAM exchange against the same secret.
    @Test func recoveredClientKeyLogsInAgainstSameSecret() throws {
        var scram = login(.scramSHA256, stored: .scram(Self.secret))
        let (steps, _) = scramExchange(&scram, credentials: .password("pencil"))
        guard case .succeeded(_, let clientKey?) = steps.last else {
            Issue.record("login did not succeed with a client key: \(steps)")
            return
        }

        var postgres = SCRAMServer(secret: Self.secret, serverNonce: "postgres-nonce-1234")
        var spillway = SCRAMClient(
            credentials: .keys(clientKey: clientKey, serverKey: Self.secret.serverKey), clientNonce: "spillway-9876")
        let serverFirst = try postgres.receiveClientFirst(spillway.clientFirstMessage())
        let serverFinal = try postgres.receiveClientFinal(try spillway.receiveServerFirst(serverFirst))
        try spillway.receiveServerFinal(serverFinal)
        #expect(postgres.clientKey == clientKey)
    }

    /// Only SCRAM-SHA-256 is offered; another mechanism fails.
    @Test func scramWithOtherMechanismFails() {
        var scram = login(.scramSHA256, stored: .scram(Self.secret))
        _ = scram.start()
        var client = SCRAMClient(credentials: .password("pencil"), clientNonce: clientNonce)
        let step = scram.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256-PLUS", data: client.clientFirstMessage()))
        #expect(outcome(step) == .failed)
    }

    /// A SASLInitialResponse without data fails.
    @Test func scramWithoutInitialResponseFails() {
        var scram = login(.scramSHA256, stored: .scram(Self.secret))
        _ = scram.start()
        #expect(outcome(scram.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: nil))) == .failed)
    }

    /// A malformed client-first-message fails with the SCRAM error, which names no secret.
    @Test func scramWithMalformedClientFirstFails() {
        var scram = login(.scramSHA256, stored: .scram(Self.secret))
        _ = scram.start()
        let step = scram.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: Array("garbage".utf8)))
        guard case .failed(let reason) = step else {
            Issue.record("expected failure, got \(step)")
            return
        }
        #expect(reason.contains("scram"))
    }

    /// A message of the wrong kind for the step fails, and so does anything after the login ended.
    @Test func unexpectedMessageFails() {
        var plain = login(.plain, stored: .plain("pencil"))
        _ = plain.start()
        #expect(plain.receive(.saslResponse([1, 2, 3])) == .failed(reason: "unexpected authentication message"))
        #expect(outcome(plain.receive(.password(Array("pencil".utf8)))) == .failed)

        var done = login(.plain, stored: .plain("pencil"))
        _ = done.start()
        _ = done.receive(.password(Array("pencil".utf8)))
        #expect(outcome(done.receive(.password(Array("pencil".utf8)))) == .failed)
    }

    // MARK: Unknown users

    /// An unknown user goes through the same steps as a known user with the wrong password and fails at the same
    /// one with the same outcome, for every auth_type that asks a password.
    @Test(arguments: [AuthType.plain, .md5, .scramSHA256])
    func unknownUserFailsLikeWrongPassword(authType: AuthType) {
        var unknown = login(authType, user: "mallory", stored: nil)
        var known = login(authType, user: "alice", stored: .plain("pencil"))
        switch authType {
        case .scramSHA256:
            let unknownSteps = scramExchange(&unknown, credentials: .password("guess")).steps.map(outcome)
            let knownSteps = scramExchange(&known, credentials: .password("guess")).steps.map(outcome)
            #expect(unknownSteps == knownSteps)
            #expect(unknownSteps == [.sent("sasl"), .sent("saslContinue"), .failed])
        default:
            let unknownStart = unknown.start()
            let knownStart = known.start()
            #expect(unknownStart == knownStart)
            let answer: [UInt8] =
                authType == .md5
                ? Array(MD5Password.response(user: "alice", password: "guess", salt: md5Salt).utf8)
                : Array("guess".utf8)
            #expect(outcome(unknown.receive(.password(answer))) == .failed)
            #expect(outcome(known.receive(.password(answer))) == .failed)
        }
    }

    /// An unknown user's SCRAM server-first-message looks like a known user's: same attributes, same iteration
    /// count, a 16-byte salt.
    @Test func unknownUserSCRAMServerFirstLooksReal() {
        var unknown = login(.scramSHA256, user: "mallory", stored: nil)
        _ = unknown.start()
        var client = SCRAMClient(credentials: .password("guess"), clientNonce: clientNonce)
        guard case .send(.saslContinue(let serverFirst)) =
            unknown.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: client.clientFirstMessage()))
        else {
            Issue.record("expected server-first-message")
            return
        }
        #expect(scramAttribute("i", in: serverFirst) == "4096")
        #expect(scramAttribute("s", in: serverFirst).flatMap { Base64.decode($0) }?.count == 16)
    }

    /// Security: with auth_type scram-sha-256 and only an md5 hash stored, the exchange runs against a secret
    /// "nobody knows". That secret must not be derivable from what the exchange itself reveals (the server
    /// nonce in r= and the salt in s=), or anyone can log in as the role.
    @Test func scramAgainstMD5StoredRoleCannotBeForgedFromTheExchange() throws {
        let stored = StoredPassword.md5(MD5Password.storedHash(user: "alice", password: "pencil"))
        var scram = login(.scramSHA256, stored: stored)
        _ = scram.start()

        // The attacker reads the server nonce from server-first-message and uses it as the password.
        var probe = SCRAMClient(credentials: .password("x"), clientNonce: clientNonce)
        guard case .send(.saslContinue(let serverFirst)) =
            scram.receive(.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: probe.clientFirstMessage()))
        else {
            Issue.record("expected server-first-message")
            return
        }
        let combinedNonce = try #require(scramAttribute("r", in: serverFirst))
        let serverNonce = String(combinedNonce.dropFirst(clientNonce.count))

        var attacker = login(.scramSHA256, stored: stored)
        let (steps, _) = scramExchange(&attacker, credentials: .password(serverNonce + "\u{1}"))
        #expect(steps.map(outcome) == [.sent("sasl"), .sent("saslContinue"), .failed])
    }

    /// An unknown user cannot log in by deriving the fallback secret either.
    @Test func scramForUnknownUserCannotBeForged() throws {
        var attacker = login(.scramSHA256, user: "mallory", stored: nil)
        let serverNonce = Base64.encode(randomBytes)
        let (steps, _) = scramExchange(&attacker, credentials: .password(serverNonce + "\u{1}"))
        #expect(steps.last.map(outcome) == .failed)
    }
}
