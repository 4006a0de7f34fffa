import NIOCore
import PostgresWire
import Testing

@testable import SpillwayCore

private let start = ContinuousClock.now
private let client = ClientID(7)

private func frame(_ message: BackendMessage) -> Frame {
    var buffer = ByteBuffer()
    message.encode(into: &buffer)
    return Frame(bytes: buffer)
}

private func dataRow(_ values: [String?]) -> Frame {
    var body = ByteBuffer()
    body.writeInteger(Int16(values.count))  // Int16: number of column values
    for value in values {
        if let value {
            body.writeInteger(Int32(value.utf8.count))  // Int32: value length
            body.writeString(value)
        } else {
            body.writeInteger(Int32(-1))  // Int32: -1 = NULL
        }
    }
    return Frame(type: .dataRow, body: body)
}

private let readyIdle = frame(.readyForQuery(.idle))
private let error = ErrorResponse(severity: .error, code: .internalError, message: "no such setting")

/// A session that logged in with a plain password and is idle since `start`.
private func idleSession() -> ServerSession {
    var session = ServerSession(
        id: ServerID(1), login: ServerLogin(user: "app", credentials: .password("pw"), randomBytes: []), now: start)
    _ = session.connected()
    _ = session.received(frame(.authentication(.ok)), now: start)
    _ = session.received(readyIdle, now: start)
    return session
}

@Suite struct ServerSessionTests {
    /// A login runs connect → StartupMessage → md5 reply → AuthenticationOk → parameters and key →
    /// ReadyForQuery, and ends idle with what the server reported.
    @Test func loginCollectsParametersAndKeyAndEndsIdle() {
        var session = ServerSession(
            id: ServerID(1), login: ServerLogin(user: "app", credentials: .password("pw"), randomBytes: []), now: start)
        #expect(session.connected() == .sendStartup)
        let reply = session.received(frame(.authentication(.md5Password(salt: [1, 2, 3, 4]))), now: start)
        guard case .send(let messages) = reply, messages.count == 1, case .password = messages[0] else {
            Issue.record("expected an md5 password reply")
            return
        }
        #expect(session.received(frame(.authentication(.ok)), now: start) == .none)
        #expect(session.received(frame(.parameterStatus(name: "DateStyle", value: "ISO, MDY")), now: start) == .none)
        #expect(session.received(frame(.parameterStatus(name: "server_version", value: "15.8")), now: start) == .none)
        #expect(session.received(frame(.backendKeyData(CancelRequest(processID: 42, secretKey: 9))), now: start) == .none)
        let later = start + .milliseconds(5)
        #expect(session.received(readyIdle, now: later) == .loggedIn)
        #expect(session.idleSince == later)
        #expect(session.backendKey == CancelRequest(processID: 42, secretKey: 9))
        #expect(session.reported.map(\.name) == ["DateStyle", "server_version"])
        #expect(session.tracked["DateStyle"] == "ISO, MDY")
    }

    /// PostgreSQL refusing the login fails it with what the server said.
    @Test func loginErrorFailsWithTheServersError() {
        var session = ServerSession(
            id: ServerID(1), login: ServerLogin(user: "app", credentials: .password("pw"), randomBytes: []), now: start)
        _ = session.connected()
        let refused = ErrorResponse(severity: .fatal, code: .invalidPassword, message: "password authentication failed")
        #expect(session.received(frame(.errorResponse(refused)), now: start)
            == .loginFailed(ServerFailure(message: "password authentication failed", serverError: refused)))
        #expect(session.socketClosed() == .none)
    }

    /// A server asking for a password Spillway does not have fails the login, naming what is missing.
    @Test func missingCredentialsFailTheLogin() {
        var session = ServerSession(
            id: ServerID(1), login: ServerLogin(user: "app", credentials: .none, randomBytes: []), now: start)
        _ = session.connected()
        guard case .loginFailed(let failure) = session.received(frame(.authentication(.cleartextPassword)), now: start)
        else {
            Issue.record("expected the login to fail")
            return
        }
        #expect(failure.message.contains("cleartext password"))
    }

    /// server_connect_timeout fails a login still in progress and means nothing once logged in.
    @Test func loginDeadlineFailsOnlyAnUnfinishedLogin() {
        var stuck = ServerSession(
            id: ServerID(1), login: ServerLogin(user: "app", credentials: .none, randomBytes: []), now: start)
        _ = stuck.connected()
        guard case .loginFailed(let failure) = stuck.loginDeadlinePassed(timeout: .seconds(15)) else {
            Issue.record("expected the login to time out")
            return
        }
        #expect(failure.message.contains("server_connect_timeout"))
        var done = idleSession()
        #expect(done.loginDeadlinePassed(timeout: .seconds(15)) == .none)
    }

    /// A server whose parameters already match is lent at once.
    @Test func assignWithoutSyncLendsAtOnce() {
        var session = idleSession()
        #expect(session.assign(to: client, sync: nil) == .attached(client, synced: nil))
        guard case .active(let holder) = session.state else {
            Issue.record("expected the server to be active")
            return
        }
        #expect(holder == client)
    }

    /// Differing tracked parameters are set first; the client is attached when the SET has finished, with the
    /// server's values.
    @Test func assignWithSyncSetsParametersFirst() {
        var session = idleSession()
        #expect(session.assign(to: client, sync: "SET TimeZone = 'UTC'") == .send([.query("SET TimeZone = 'UTC'")]))
        #expect(session.received(frame(.parameterStatus(name: "TimeZone", value: "UTC")), now: start) == .none)
        guard case .attached(client, let synced?) = session.received(readyIdle, now: start) else {
            Issue.record("expected the client to be attached after the SET")
            return
        }
        #expect(synced["TimeZone"] == "UTC")
    }

    /// A SET the server rejects leaves the server idle and tells the client why.
    @Test func failedSyncLeavesTheServerIdle() {
        var session = idleSession()
        _ = session.assign(to: client, sync: "SET bogus = 1")
        #expect(session.received(frame(.errorResponse(error)), now: start) == .none)
        guard case .syncFailed(client, let failure) = session.received(readyIdle, now: start) else {
            Issue.record("expected the sync to fail")
            return
        }
        #expect(failure.serverError == error)
        #expect(session.isIdle)
    }

    /// A server that is not idle cannot be lent.
    @Test func busyServerIsNotLent() {
        var session = idleSession()
        _ = session.assign(to: client, sync: nil)
        guard case .syncFailed = session.assign(to: ClientID(8), sync: nil) else {
            Issue.record("a busy server must not be lent twice")
            return
        }
    }

    /// Released with a reset, the server runs every statement and is idle only after the last ReadyForQuery.
    @Test func releaseRunsResetStatementsBeforeIdle() {
        var session = idleSession()
        _ = session.assign(to: client, sync: nil)
        let later = start + .seconds(1)
        #expect(session.release(statements: ["ROLLBACK", "DISCARD ALL"], now: later)
            == .send([.query("ROLLBACK"), .query("DISCARD ALL")]))
        #expect(session.received(readyIdle, now: later) == .none)
        #expect(!session.isIdle)
        #expect(session.received(readyIdle, now: later) == .finished(.reset, .success([])))
        #expect(session.idleSince == later)
    }

    /// Released with nothing to run, the server is idle at once.
    @Test func releaseWithoutResetIsIdleAtOnce() {
        var session = idleSession()
        _ = session.assign(to: client, sync: nil)
        #expect(session.release(statements: [], now: start) == .finished(.reset, .success([])))
        #expect(session.isIdle)
    }

    /// A query of Spillway's own returns its rows as text, NULL as nil.
    @Test func internalQueryCollectsRows() {
        var session = idleSession()
        #expect(session.run(["select 1"], purpose: .query) == .send([.query("select 1")]))
        _ = session.received(dataRow(["100", "3", nil]), now: start)
        #expect(session.received(readyIdle, now: start) == .finished(.query, .success([["100", "3", nil]])))
    }

    /// A failing check query reports the failure; the shard then closes the server.
    @Test func failingCheckReportsFailure() {
        var session = idleSession()
        _ = session.run(["select 1"], purpose: .check)
        _ = session.received(frame(.errorResponse(error)), now: start)
        guard case .finished(.check, .failure(let failure)) = session.received(readyIdle, now: start) else {
            Issue.record("expected the check to fail")
            return
        }
        #expect(failure.serverError == error)
    }

    /// An idle server that sends an ErrorResponse (terminated by an administrator) is closed.
    @Test func idleServerErrorClosesIt() {
        var session = idleSession()
        let terminated = ErrorResponse(severity: .fatal, code: .adminShutdown, message: "terminating connection")
        guard case .close(let reason) = session.received(frame(.errorResponse(terminated)), now: start) else {
            Issue.record("expected the idle server to be closed")
            return
        }
        #expect(reason.contains("57P01"))
    }

    /// Losing the socket tells who was affected: the client that held the server, or the one being synced.
    @Test func socketLossNamesTheClientAffected() {
        var active = idleSession()
        _ = active.assign(to: client, sync: nil)
        #expect(active.socketClosed() == .lost(client: client, purpose: nil))
        var syncing = idleSession()
        _ = syncing.assign(to: client, sync: "SET x = 1")
        #expect(syncing.socketClosed() == .lost(client: client, purpose: .sync(for: client)))
        var idle = idleSession()
        #expect(idle.socketClosed() == .lost(client: nil, purpose: nil))
        var resetting = idleSession()
        _ = resetting.assign(to: client, sync: nil)
        _ = resetting.release(statements: ["ROLLBACK"], now: start)
        #expect(resetting.socketClosed() == .lost(client: nil, purpose: .reset))
    }

    /// Closing from Spillway's side happens once.
    @Test func closeHappensOnce() {
        var session = idleSession()
        #expect(session.close(reason: "server_idle_timeout") == .close(reason: "server_idle_timeout"))
        #expect(session.close(reason: "again") == .none)
        #expect(session.socketClosed() == .none)
    }
}
