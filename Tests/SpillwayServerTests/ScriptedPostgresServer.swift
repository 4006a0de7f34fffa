#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import PostgresWire
import Synchronization

@testable import SpillwayEngine

/// A scripted PostgreSQL listening on a Unix socket in a temp folder, accepting any number of connections:
/// trust login, then simple and extended queries, transactions, COPY FROM STDIN, errors and a crash, each by
/// the statement text (see `answer`). It counts the connections it holds, and the most it held at once.
final class ScriptedPostgresServer: Sendable {
    let folder: String
    let port = 5432
    private let group: IOLoopGroup
    private let listener: Listener
    private let state = State()

    /// What the accepting loop and the test share.
    private final class State: Sendable {
        let counts = Mutex((open: 0, most: 0, total: 0))
        let connections = Mutex<[Box<ScriptedPostgres>]>([])
        let cancels = Mutex<[CancelRequest]>([])
    }

    /// CancelRequests received, in order.
    var cancels: [CancelRequest] { state.cancels.withLock { $0 } }

    init() throws {
        folder = NSTemporaryDirectory() + "spillway-scripted-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        group = try IOLoopGroup(loops: 1)
        listener = try Listener(bindingTo: NetworkAddress(unixPath: "\(folder)/.s.PGSQL.\(port)")!, backlog: 64)
        let state = self.state
        listener.start(on: group.loops) { incoming in
            guard let postgres = try? ScriptedPostgres(socket: incoming.socket, loop: incoming.loop) else { return }
            let inTransaction = Box(false)
            postgres.reply = { received in
                if case .cancel(let request) = received { state.cancels.withLock { $0.append(request) } }
                return ScriptedPostgresServer.answer(received, inTransaction: inTransaction)
            }
            postgres.onClosed = { state.counts.withLock { $0.open -= 1 } }
            state.counts.withLock { counts in
                counts.open += 1
                counts.total += 1
                counts.most = max(counts.most, counts.open)
            }
            state.connections.withLock { $0.append(Box(postgres)) }
        }
    }

    /// Server connections open now, the most open at once, and how many were ever opened.
    var connectionCounts: (open: Int, most: Int, total: Int) { state.counts.withLock { $0 } }

    /// Drops every connection at once, as a restarted PostgreSQL does.
    func dropAll() {
        let all = state.connections.withLock { list in
            defer { list = [] }
            return list
        }
        group.loops[0].execute { for box in all { box.value.vanish() } }
    }

    func stop() {
        listener.stop()
        group.shutdown()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// What the scripted server answers.
    static func answer(_ received: ScriptedPostgres.Received, inTransaction: Box<Bool>) -> [ByteBuffer] {
        switch received {
        case .startup:
            return Backend.loginTail()
        case .message(.query(let sql)):
            return answer(sql: sql, inTransaction: inTransaction)
        case .frame(.parse):
            return [Backend.frame(.parseComplete)]
        case .frame(.bind):
            return [Backend.frame(.bindComplete)]
        case .frame(.describe):
            return [Backend.frame(.noData)]
        case .frame(.execute):
            return [Backend.dataRow(["extended"]), Backend.commandComplete("SELECT 1")]
        case .message(.sync):
            return [Backend.ready()]
        case .frame(.copyData):
            return []
        case .frame(.copyDone):
            return [Backend.commandComplete("COPY 2"), Backend.ready()]
        default:
            return []
        }
    }

    /// A simple query by its text: BEGIN opens a transaction until COMMIT/ROLLBACK/END (per connection),
    /// "fail" is an error (which, inside a transaction, leaves it failed until ROLLBACK), "copy in" starts
    /// COPY FROM STDIN; anything else returns one row holding the statement's text.
    static func answer(sql: String, inTransaction: Box<Bool>) -> [ByteBuffer] {
        let status: () -> TransactionStatus = { inTransaction.value ? .inTransaction : .idle }
        switch sql.lowercased() {
        case "begin":
            inTransaction.value = true
            return [Backend.commandComplete("BEGIN"), Backend.ready(.inTransaction)]
        case "commit", "rollback", "end":
            inTransaction.value = false
            return [Backend.commandComplete("COMMIT"), Backend.ready(.idle)]
        case "fail":
            return [Backend.error(.syntaxError, "syntax error at or near \"fail\""),
                Backend.ready(inTransaction.value ? .failed : .idle)]
        case "copy in":
            return [Backend.frame(.copyInResponse) { $0.writeInteger(UInt8(0)); $0.writeInteger(Int16(0)) }]
        default:
            return [
                Backend.frame(.rowDescription) { $0.writeInteger(Int16(0)) }, Backend.dataRow([sql]),
                Backend.commandComplete("SELECT 1"), Backend.ready(status()),
            ]
        }
    }
}
