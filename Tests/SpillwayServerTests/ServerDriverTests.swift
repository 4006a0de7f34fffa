import Logging
import NIOCore
import PostgresWire
import SpillwayCore
import Testing

@testable import SpillwayEngine
@testable import SpillwayServer

/// Records what a server driver tells its owner.
final class OwnerRecorder: ServerDriverOwner {
    enum Event: Equatable {
        case loggedIn
        case loginFailed(String)
        case attached(ClientID)
        case syncFailed(ClientID)
        case finished(ServerSession.Purpose, success: Bool)
        case closed(client: ClientID?)
    }

    var events: [Event] = []
    var onEvent: ((Event) -> Void)?
    var lastFailure: ServerFailure?
    var lastSynced: TrackedParameters?
    var lastRows: [[String?]] = []

    private func note(_ event: Event) {
        events.append(event)
        onEvent?(event)
    }

    func serverLoggedIn(_ server: ServerDriver) { note(.loggedIn) }
    func serverLoginFailed(_ server: ServerDriver, _ failure: ServerFailure) {
        lastFailure = failure
        note(.loginFailed(failure.message))
    }
    func serverAttached(_ server: ServerDriver, to client: ClientID, synced: TrackedParameters) {
        lastSynced = synced
        note(.attached(client))
    }
    func serverSyncFailed(_ server: ServerDriver, client: ClientID, _ failure: ServerFailure) {
        lastFailure = failure
        note(.syncFailed(client))
    }
    func serverFinished(
        _ server: ServerDriver, _ purpose: ServerSession.Purpose, _ result: Result<[[String?]], ServerFailure>
    ) {
        if case .success(let rows) = result { lastRows = rows }
        if case .failure(let failure) = result { lastFailure = failure }
        note(.finished(purpose, success: (try? result.get()) != nil))
    }
    func serverClosed(_ server: ServerDriver, client: ClientID?, reason: String) {
        note(.closed(client: client))
    }
}

/// A client driver stand-in: takes every frame a lent server sends.
final class SinkRecorder: ServerFrameSink {
    var types: [MessageType] = []
    var onFrame: ((MessageType) -> Void)?

    func serverSent(_ decoder: inout FrameDecoder, from server: ServerDriver) throws(WireError) {
        while let frame = try decoder.next() {
            types.append(frame.type)
            onFrame?(frame.type)
        }
    }
}

/// A server driver, its owner and sink, and the scripted PostgreSQL on the other end of a socketpair.
final class ServerRig {
    let owner = OwnerRecorder()
    let sink = SinkRecorder()
    let postgres: ScriptedPostgres
    let driver: ServerDriver

    init(loop: IOLoop, credentials: ServerCredentials = .password("secret"), connectTimeout: Double = 5) throws {
        let (spillwaySide, postgresSide) = try Socket.pair()
        postgres = try ScriptedPostgres(socket: postgresSide, loop: loop)
        var settings = Settings()
        settings.serverConnectTimeout = connectTimeout
        driver = ServerDriver(
            id: ServerID(1), key: PoolKey(database: "app", user: "app"),
            target: ServerTarget(address: .unix(path: "/scripted"), user: "app", database: "app",
                startupParameters: [("user", "app"), ("database", "app")]),
            credentials: credentials, loop: loop, owner: owner, settings: settings, logger: Logger(label: "test"))
        _ = spillwaySide
        self.spillwaySide = spillwaySide
    }

    private let spillwaySide: Socket

    /// Logs in with an md5 exchange, as PostgreSQL with `password_encryption = md5` asks.
    func startMD5Login() {
        postgres.reply = { received in
            switch received {
            case .startup: [Backend.message(.authentication(.md5Password(salt: [1, 2, 3, 4])))]
            case .message(.password): Backend.loginTail()
            default: []
            }
        }
        driver.adopt(spillwaySide)
    }

    /// Adopts the socket without scripting anything (for tests that script the login themselves).
    func adoptSocket() { driver.adopt(spillwaySide) }
}

@Suite struct ServerDriverTests {
    private func withLoop<T>(loops: Int = 1, _ body: (IOLoopGroup) async throws -> T) async throws -> T {
        let group = try IOLoopGroup(loops: loops)
        defer { group.shutdown() }
        return try await body(group)
    }

    /// An md5 login sends the startup, answers the challenge, and ends idle with the server's parameters and key.
    @Test func md5LoginEndsIdleWithParametersAndKey() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let result = try await loop.wait("the login") { (done: @escaping @Sendable (Box<ServerRig>) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.owner.onEvent = { _ in done(Box(rig)) }
                rig.startMD5Login()
            }
            let rig = result.value
            #expect(rig.owner.events == [.loggedIn])
            #expect(rig.driver.session.backendKey == CancelRequest(processID: 4242, secretKey: 77))
            #expect(rig.driver.session.reported.map(\.name) == ["server_version", "DateStyle"])
            guard case .startup(let parameters) = rig.postgres.log.first else {
                Issue.record("PostgreSQL got no startup packet")
                return
            }
            #expect(parameters["user"] == "app")
            let md5 = Array(MD5Password.response(user: "app", password: "secret", salt: [1, 2, 3, 4]).utf8)
            #expect(rig.postgres.log.contains(.message(.password(md5))))
        }
    }

    /// PostgreSQL refusing the password fails the login with its message, and the socket is closed.
    @Test func refusedLoginReportsTheServersMessage() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let events = try await loop.wait("the refusal") { (done: @escaping @Sendable ([OwnerRecorder.Event]) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.postgres.reply = { received in
                    if case .startup = received {
                        return [Backend.error(.invalidPassword, "password authentication failed", severity: .fatal)]
                    }
                    return []
                }
                rig.owner.onEvent = { _ in done(rig.owner.events) }
                rig.adoptSocket()
            }
            #expect(events == [.loginFailed("password authentication failed")])
        }
    }

    /// A server that never answers the startup fails at server_connect_timeout, not later, not never.
    @Test func silentServerFailsAtConnectTimeout() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let started = ContinuousClock.now
            let message = try await loop.wait("the timeout") { (done: @escaping @Sendable (String) -> Void) in
                let rig = try! ServerRig(loop: loop, connectTimeout: 0.2)
                rig.owner.onEvent = { event in
                    // Keeps the rig (the driver's owner) alive until the deadline fires.
                    withExtendedLifetime(rig) {
                        if case .loginFailed(let message) = event { done(message) }
                    }
                }
                rig.adoptSocket()
                // The driver arms its deadline when it starts connecting; adopt skips the connect, so arm here
                // the way start() does.
                rig.driver.armLoginDeadline()
            }
            #expect(message.contains("server_connect_timeout"))
            #expect(ContinuousClock.now - started >= .milliseconds(190))
        }
    }

    /// Lent to a client, the server forwards a whole simple query's replies to it, ReadyForQuery included.
    @Test func lentServerForwardsReplies() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let types = try await loop.wait("the replies") { (done: @escaping @Sendable ([MessageType]) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.owner.onEvent = { event in
                    guard event == .loggedIn else { return }
                    #expect(rig.driver.assign(to: ClientID(9), sync: nil, sink: rig.sink) == .attached)
                    rig.postgres.reply = { received in
                        guard case .message(.query) = received else { return [] }
                        return [
                            Backend.frame(.rowDescription) { $0.writeInteger(Int16(0)) },
                            Backend.dataRow(["1"]), Backend.commandComplete("SELECT 1"), Backend.ready(),
                        ]
                    }
                    var query = ByteBuffer()
                    FrontendMessage.query("select 1").encode(into: &query)
                    rig.driver.write(query)
                }
                rig.sink.onFrame = { type in if type == .readyForQuery { done(rig.sink.types) } }
                rig.startMD5Login()
            }
            #expect(types == [.rowDescription, .dataRow, .commandComplete, .readyForQuery])
        }
    }

    /// Differing parameters are set before the client is attached; the owner learns the server's values.
    @Test func syncSetsParametersBeforeAttaching() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let (events, timezone, queries) = try await loop.wait("the sync") {
                (done: @escaping @Sendable (([OwnerRecorder.Event], String?, [OwnerRecorder.Event])) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.owner.onEvent = { event in
                    switch event {
                    case .loggedIn:
                        rig.postgres.reply = { received in
                            guard case .message(.query) = received else { return [] }
                            return [Backend.commandComplete("SET"),
                                Backend.message(.parameterStatus(name: "TimeZone", value: "UTC")), Backend.ready()]
                        }
                        #expect(rig.driver.assign(to: ClientID(3), sync: "SET TimeZone = 'UTC'", sink: rig.sink) == .syncing)
                    case .attached:
                        done((rig.owner.events, rig.owner.lastSynced?["TimeZone"], []))
                    default:
                        break
                    }
                }
                rig.startMD5Login()
            }
            #expect(events == [.loggedIn, .attached(ClientID(3))])
            #expect(timezone == "UTC")
            _ = queries
        }
    }

    /// Given back with a reset, the server runs ROLLBACK and server_reset_query and is idle after both.
    @Test func releaseRunsTheResetStatements() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let (events, log) = try await loop.wait("the reset") {
                (done: @escaping @Sendable (([OwnerRecorder.Event], [ScriptedPostgres.Received])) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.owner.onEvent = { event in
                    switch event {
                    case .loggedIn:
                        _ = rig.driver.assign(to: ClientID(4), sync: nil, sink: rig.sink)
                        rig.postgres.reply = { received in
                            guard case .message(.query(let sql)) = received else { return [] }
                            return [Backend.commandComplete(sql), Backend.ready()]
                        }
                        #expect(!rig.driver.release(statements: ["ROLLBACK", "DISCARD ALL"]))
                    case .finished:
                        done((rig.owner.events, rig.postgres.log.filter { if case .message(.query) = $0 { true } else { false } }))
                    default:
                        break
                    }
                }
                rig.startMD5Login()
            }
            #expect(events == [.loggedIn, .finished(.reset, success: true)])
            #expect(log == [.message(.query("ROLLBACK")), .message(.query("DISCARD ALL"))])
        }
    }

    /// The server vanishing while lent tells the owner which client held it.
    @Test func lossWhileLentNamesTheClient() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let events = try await loop.wait("the loss") { (done: @escaping @Sendable ([OwnerRecorder.Event]) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.owner.onEvent = { event in
                    switch event {
                    case .loggedIn:
                        _ = rig.driver.assign(to: ClientID(5), sync: nil, sink: rig.sink)
                        rig.postgres.vanish()
                    case .closed:
                        done(rig.owner.events)
                    default:
                        break
                    }
                }
                rig.startMD5Login()
            }
            #expect(events == [.loggedIn, .closed(client: ClientID(5))])
        }
    }

    /// A malformed frame from the server closes that server only, naming the client that held it.
    @Test func malformedFrameClosesTheServer() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let events = try await loop.wait("the close") { (done: @escaping @Sendable ([OwnerRecorder.Event]) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.owner.onEvent = { event in
                    switch event {
                    case .loggedIn:
                        _ = rig.driver.assign(to: ClientID(6), sync: nil, sink: rig.sink)
                        var garbage = ByteBuffer()
                        garbage.writeInteger(UInt8(ascii: "D"))
                        garbage.writeInteger(Int32(2))  // Int32: a length below 4 is invalid
                        rig.postgres.send([garbage])
                    case .closed:
                        done(rig.owner.events)
                    default:
                        break
                    }
                }
                rig.startMD5Login()
            }
            #expect(events == [.loggedIn, .closed(client: ClientID(6))])
        }
    }

    /// The budget query's rows come back to the owner as text.
    @Test func internalQueryReturnsRows() async throws {
        try await withLoop { group in
            let loop = group.loops[0]
            let rows = try await loop.wait("the rows") { (done: @escaping @Sendable ([[String?]]) -> Void) in
                let rig = try! ServerRig(loop: loop)
                rig.owner.onEvent = { event in
                    switch event {
                    case .loggedIn:
                        rig.postgres.reply = { received in
                            guard case .message(.query) = received else { return [] }
                            return [Backend.dataRow(["100", "3", "0", "12"]), Backend.commandComplete("SELECT 1"),
                                Backend.ready()]
                        }
                        rig.driver.runStatements([ServerBudget.query], purpose: .query)
                    case .finished(.query, true):
                        done(rig.owner.lastRows)
                    default:
                        break
                    }
                }
                rig.startMD5Login()
            }
            #expect(rows == [["100", "3", "0", "12"]])
        }
    }

    /// An idle server moves to another loop and serves a client there.
    @Test func idleServerMovesToAnotherLoop() async throws {
        try await withLoop(loops: 2) { group in
            let rig = try await group.loops[0].wait("the login") { (done: @escaping @Sendable (Box<ServerRig>) -> Void) in
                let rig = try! ServerRig(loop: group.loops[0])
                rig.owner.onEvent = { _ in
                    rig.postgres.reply = { received in
                        guard case .message(.query) = received else { return [] }
                        return [Backend.commandComplete("SELECT 0"), Backend.ready()]
                    }
                    done(Box(rig))
                }
                rig.startMD5Login()
            }
            let moved = try await group.loops[0].wait("the move") { (done: @escaping @Sendable (Bool) -> Void) in
                let started = rig.value.driver.move(to: group.loops[1]) { driver in
                    done(driver.loop === group.loops[1] && group.loops[1].inLoop)
                }
                #expect(started)
            }
            #expect(moved)
            // The scripted PostgreSQL stays on loop 0; the driver, on loop 1, still reaches it.
            let types = try await group.loops[1].wait("a query on the new loop") { (done: @escaping @Sendable ([MessageType]) -> Void) in
                let rig = rig.value
                #expect(rig.driver.assign(to: ClientID(8), sync: nil, sink: rig.sink) == .attached)
                rig.sink.onFrame = { type in if type == .readyForQuery { done(rig.sink.types) } }
                var query = ByteBuffer()
                FrontendMessage.query("select").encode(into: &query)
                rig.driver.write(query)
            }
            #expect(types == [.commandComplete, .readyForQuery])
        }
    }
}
