import Foundation
import NIOCore
import PostgresWire
import Synchronization
import Testing

@testable import SpillwayEngine

/// PostgreSQL played from a script on the far end of a socketpair: it decodes what Spillway sends (the startup
/// packet, then typed messages) and answers with whatever `reply` returns for each.
///
/// Lives on a loop like the drivers it talks to; everything is called there.
final class ScriptedPostgres: ConnectionDelegate {
    /// What arrived from Spillway.
    enum Received: Equatable {
        case startup([String: String])
        /// A CancelRequest (the connection then closes).
        case cancel(CancelRequest)
        case message(FrontendMessage)
        /// A frame FrontendMessage leaves opaque (Parse, Bind, Execute, CopyData ...): its type.
        case frame(MessageType)
    }

    var connection: Connection?
    private var startup = StartupDecoder()
    private var started = false
    private var decoder = FrameDecoder()
    /// Everything received, in order.
    private(set) var log: [Received] = []
    /// The script: what to send back for each received item.
    var reply: (Received) -> [ByteBuffer] = { _ in [] }
    /// Told after each item is received and answered.
    var onReceive: ((Received) -> Void)?
    var closedByPeer = false
    var onClosed: (() -> Void)?

    init(socket: Socket, loop: IOLoop) throws {
        self.connection = try Connection(socket: socket, loop: loop, delegate: self)
    }

    func received(_ bytes: ByteBuffer, on connection: Connection) {
        var bytes = bytes
        if !started {
            startup.append(bytes)
            let packet = try? startup.next()
            if case .cancel(let request)? = packet {
                handle(.cancel(request))
                return
            }
            guard case .startup(let message)? = packet else { return }
            started = true
            handle(.startup(Dictionary(message.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })))
            guard let rest = startup.drain() else { return }
            bytes = rest
        }
        decoder.append(bytes)
        while let frame = try? decoder.next() {
            if let message = try? FrontendMessage(frame: frame) {
                handle(.message(message))
            } else {
                handle(.frame(frame.type))
            }
        }
    }

    private static let trace = ProcessInfo.processInfo.environment["SPILLWAY_TEST_TRACE"] != nil

    private func handle(_ item: Received) {
        log.append(item)
        if Self.trace { print("scripted postgres \(ObjectIdentifier(self)) received \(item)") }
        for buffer in reply(item) { connection?.write(buffer) }
        onReceive?(item)
    }

    func closed(_ connection: Connection, error: SocketError?) {
        closedByPeer = true
        self.connection = nil
        onClosed?()
    }

    func drained(_ connection: Connection) {}

    /// Sends bytes unprompted (a notice, a termination, garbage).
    func send(_ buffers: [ByteBuffer]) {
        for buffer in buffers { connection?.write(buffer) }
    }

    /// Drops the connection, as a crashed or terminated backend does.
    func vanish() {
        connection?.abort()
        connection = nil
        onClosed?()
    }
}

/// Backend messages as bytes, for scripts.
enum Backend {
    static func message(_ message: BackendMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        message.encode(into: &buffer)
        return buffer
    }

    static func ready(_ status: TransactionStatus = .idle) -> ByteBuffer { message(.readyForQuery(status)) }

    static func frame(_ type: MessageType, _ body: (inout ByteBuffer) -> Void = { _ in }) -> ByteBuffer {
        var payload = ByteBuffer()
        body(&payload)
        return Frame(type: type, body: payload).bytes
    }

    static func commandComplete(_ tag: String) -> ByteBuffer { frame(.commandComplete) { $0.writeString(tag + "\0") } }

    static func dataRow(_ values: [String]) -> ByteBuffer {
        frame(.dataRow) { body in
            body.writeInteger(Int16(values.count))  // Int16: column count
            for value in values {
                body.writeInteger(Int32(value.utf8.count))  // Int32: value length
                body.writeString(value)
            }
        }
    }

    static func error(_ code: SQLState, _ message: String, severity: ErrorResponse.Severity = .error) -> ByteBuffer {
        var buffer = ByteBuffer()
        ErrorResponse(severity: severity, code: code, message: message).encode(into: &buffer)
        return buffer
    }

    /// What PostgreSQL sends after AuthenticationOk: parameters, key, ReadyForQuery.
    static func loginTail(processID: Int32 = 4242) -> [ByteBuffer] {
        [
            message(.authentication(.ok)),
            message(.parameterStatus(name: "server_version", value: "15.8")),
            message(.parameterStatus(name: "DateStyle", value: "ISO, MDY")),
            message(.backendKeyData(CancelRequest(processID: processID, secretKey: 77))),
            ready(),
        ]
    }
}

/// Failure of a wait: the condition did not come true before its deadline.
struct WaitTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Resumes a continuation once.
final class Once<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)
    init(_ continuation: CheckedContinuation<Value, any Error>) { self.continuation.withLock { $0 = continuation } }
    func resume(_ value: Value) { self.continuation.withLock { $0.take() }?.resume(returning: value) }
    func fail(_ error: any Error) { self.continuation.withLock { $0.take() }?.resume(throwing: error) }
}

extension IOLoop {
    /// Runs `body` on the loop and waits for it to call `done`, or fails after `timeout` (a loop timer, no sleep).
    func wait<Value: Sendable>(
        _ what: String, timeout: Duration = .seconds(5),
        _ body: @escaping @Sendable (_ done: @escaping @Sendable (Value) -> Void) -> Void
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let once = Once(continuation)
            self.execute {
                self.schedule(at: self.now + timeout) { once.fail(WaitTimedOut(what: what)) }
                body { once.resume($0) }
            }
        }
    }
}

/// Moves a loop-confined test value into a loop task (the test gives up using it elsewhere meanwhile).
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
