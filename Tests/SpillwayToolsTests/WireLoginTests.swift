import PostgresWire
import Testing

@testable import SpillwayTools

@Suite struct WireLoginTests {
    /// The frames after a successful authentication: settings, key, ReadyForQuery.
    static let afterOk = WireFrames.of([
        .authentication(.ok), .parameterStatus(name: "server_version", value: "15.4"),
        .backendKeyData(CancelRequest(processID: 42, secretKey: 7)), .readyForQuery(.idle),
    ])

    /// Feeds `frames` and returns the actions that are not `.none`.
    static func actions(_ login: inout WireLogin, _ frames: [Frame]) -> [WireLogin.Action] {
        frames.map { login.receive($0) }.filter { $0 != .none }
    }

    /// Trust: AuthenticationOk straight away; the login is ready and has kept the settings and the key.
    @Test func trustIsReadyAtReadyForQuery() {
        var login = WireLogin(user: "app", password: nil, nonce: "n")
        #expect(Self.actions(&login, Self.afterOk) == [.ready])
        #expect(login.parameters["server_version"] == "15.4")
        #expect(login.backendKey == CancelRequest(processID: 42, secretKey: 7))
    }

    /// md5: the answer is md5(md5(password + user) + salt), as PostgreSQL checks it.
    @Test func md5AnswersWithTheSaltedHash() {
        var login = WireLogin(user: "drill_app", password: "secret", nonce: "n")
        let salt: [UInt8] = [1, 2, 3, 4]
        let expected = MD5Password.response(user: "drill_app", password: "secret", salt: salt)
        #expect(
            Self.actions(&login, WireFrames.of([.authentication(.md5Password(salt: salt))]))
                == [.send(.password(Array(expected.utf8)))])
        #expect(Self.actions(&login, Self.afterOk) == [.ready])
    }

    /// Cleartext: the password as it is.
    @Test func cleartextSendsThePassword() {
        var login = WireLogin(user: "u", password: "pw", nonce: "n")
        #expect(
            Self.actions(&login, WireFrames.of([.authentication(.cleartextPassword)]))
                == [.send(.password(Array("pw".utf8)))])
    }

    /// SCRAM-SHA-256 against the codec's own server side: both proofs check out and the login completes.
    @Test func scramCompletesAgainstTheServerSide() throws {
        let secret = SCRAMSecret(password: "pencil", salt: Array("salt-salt-salt".utf8), iterations: 4096)
        var server = SCRAMServer(secret: secret, serverNonce: "serverNonce123")
        var login = WireLogin(user: "u", password: "pencil", nonce: "clientNonce456")

        let first = Self.actions(&login, WireFrames.of([.authentication(.sasl(mechanisms: ["SCRAM-SHA-256"]))]))
        guard case .send(.saslInitialResponse("SCRAM-SHA-256", let clientFirst?)) = first.first else {
            Issue.record("expected a SASLInitialResponse, got \(first)")
            return
        }
        let serverFirst = try server.receiveClientFirst(clientFirst)
        let final = Self.actions(&login, WireFrames.of([.authentication(.saslContinue(data: serverFirst))]))
        guard case .send(.saslResponse(let clientFinal)) = final.first else {
            Issue.record("expected a SASLResponse, got \(final)")
            return
        }
        let serverFinal = try server.receiveClientFinal(clientFinal)
        #expect(Self.actions(&login, WireFrames.of([.authentication(.saslFinal(data: serverFinal))])).isEmpty)
        #expect(Self.actions(&login, Self.afterOk) == [.ready])
    }

    /// A server signature that does not match fails the login instead of trusting the server.
    @Test func scramRejectsAForgedServerSignature() throws {
        let secret = SCRAMSecret(password: "pencil", salt: Array("salt".utf8), iterations: 4096)
        var server = SCRAMServer(secret: secret, serverNonce: "serverNonce")
        var login = WireLogin(user: "u", password: "pencil", nonce: "clientNonce")
        guard
            case .send(.saslInitialResponse(_, let clientFirst?)) =
                login.receive(WireFrames.of([.authentication(.sasl(mechanisms: ["SCRAM-SHA-256"]))])[0])
        else {
            Issue.record("no SASLInitialResponse")
            return
        }
        _ = login.receive(
            WireFrames.of([.authentication(.saslContinue(data: try server.receiveClientFirst(clientFirst)))])[0])
        let forged = Array("v=\(Base64.encode([UInt8](repeating: 0, count: 32)))".utf8)
        guard case .fail(.authentication) = login.receive(WireFrames.of([.authentication(.saslFinal(data: forged))])[0])
        else {
            Issue.record("a forged server signature was accepted")
            return
        }
    }

    /// What the client cannot do ends the login with a reason: no password, no SCRAM-SHA-256, GSS.
    @Test func unsupportedRequestsFail() {
        var noPassword = WireLogin(user: "u", password: nil, nonce: "n")
        #expect(
            Self.actions(&noPassword, WireFrames.of([.authentication(.md5Password(salt: [0, 0, 0, 0]))]))
                == [.fail(.authentication("the server asks for a password and none was given"))])
        var plusOnly = WireLogin(user: "u", password: "p", nonce: "n")
        #expect(
            Self.actions(&plusOnly, WireFrames.of([.authentication(.sasl(mechanisms: ["SCRAM-SHA-256-PLUS"]))]))
                == [.fail(.authentication("no supported SASL mechanism in SCRAM-SHA-256-PLUS"))])
        var gss = WireLogin(user: "u", password: "p", nonce: "n")
        #expect(
            Self.actions(&gss, WireFrames.of([.authentication(.other(code: 7))]))
                == [.fail(.authentication("unsupported authentication method (code 7)"))])
    }

    /// A FATAL during login is the error the caller sees, SQLSTATE included.
    @Test func serverErrorFailsWithItsSQLState() {
        let fatal = ErrorResponse(
            severity: .fatal, code: .tooManyConnections, message: "sorry, too many clients already")
        var login = WireLogin(user: "u", password: "p", nonce: "n")
        let actions = Self.actions(&login, WireFrames.of([.errorResponse(fatal)]))
        #expect(actions == [.fail(.server(fatal))])
        #expect(WireClientError.server(fatal).sqlState == "53300")
        #expect("\(WireClientError.server(fatal))" == "FATAL 53300: sorry, too many clients already")
    }
}
