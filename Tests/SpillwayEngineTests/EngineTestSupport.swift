import NIOCore
import Synchronization
import Testing

@testable import SpillwayEngine

/// Failure of a wait: the condition did not come true before its deadline.
struct WaitTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Resumes a continuation once: by the first `resume` or by the loop timer that marks the deadline.
final class Once<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(_ value: Value) {
        self.continuation.withLock { $0.take() }?.resume(returning: value)
    }

    func fail(_ error: any Error) {
        self.continuation.withLock { $0.take() }?.resume(throwing: error)
    }
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

    /// Runs `body` on the loop and returns its result.
    func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await self.wait("the loop to run a task") { done in
            let result = Result { try body() }
            done(result)
        }.get()
    }
}

extension Result: @retroactive @unchecked Sendable where Success: Sendable {}

/// A delegate that records what arrives and tells a waiter when enough has.
final class Recorder: ConnectionDelegate, @unchecked Sendable {
    var bytes: [UInt8] = []
    var closedWith: SocketError?? = .none
    var drainedCount = 0
    var echo = false
    var onBytes: (() -> Void)?
    var onClosed: (() -> Void)?
    var onDrained: (() -> Void)?
    /// The loop each callback ran on, to check a moved connection is served by its new loop.
    var callbackLoops: [Int] = []

    func received(_ bytes: ByteBuffer, on connection: Connection) {
        precondition(connection.loop.inLoop, "a delegate is called on its connection's loop")
        self.callbackLoops.append(connection.loop.index)
        self.bytes += bytes.readableBytesView
        if self.echo { connection.write(bytes) }
        self.onBytes?()
    }

    func closed(_ connection: Connection, error: SocketError?) {
        self.closedWith = .some(error)
        self.onClosed?()
    }

    func drained(_ connection: Connection) {
        self.drainedCount += 1
        self.onDrained?()
    }
}

/// Moves a non-Sendable test value into a loop task.
struct Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// A running group torn down at the end of the test.
func withGroup<T>(loops: Int = 1, _ body: (IOLoopGroup) async throws -> T) async throws -> T {
    let group = try IOLoopGroup(loops: loops)
    defer { group.shutdown() }
    return try await body(group)
}

func buffer(_ text: String) -> ByteBuffer {
    ByteBuffer(string: text)
}
