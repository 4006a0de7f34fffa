#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine
import NIOCore

/// What a connection tells its owner. Called on the connection's loop, never from inside a call the owner made on
/// the connection (`write`, `close`, `pauseReading` call back nothing).
public protocol ConnectionDelegate: AnyObject {
    /// Bytes arrived. They are a slice of the loop's read buffer: keep them only while they are in flight (a
    /// partial message), since keeping them makes the loop take a fresh buffer for its next read.
    func received(_ bytes: ByteBuffer, on connection: Connection)
    /// The peer closed or the socket failed (`error` nil for an orderly end of file); the connection is closed.
    func closed(_ connection: Connection, error: SocketError?)
    /// Output fell back below `lowWatermark` after it passed `highWatermark`: readers paused for it may resume.
    func drained(_ connection: Connection)
}

/// One stream socket on one loop: reads into the loop's buffer and hands the bytes to its delegate, queues writes
/// and flushes them once per loop iteration with one `writev`, and can move to another loop.
///
/// Loop-confined: every method is called on `loop`. Idle, a connection holds no buffer of its own.
public final class Connection {
    /// Where it is in its life.
    private enum State {
        /// Registered and reading.
        case open
        /// `close()` was called with output still queued: it closes once that is written.
        case closing
        /// Deregistered, descriptor closed.
        case closed
        /// Off every loop, on its way to another.
        case moving
    }

    /// The loop it runs on; changes only through `move(to:arrived:)`.
    public private(set) var loop: IOLoop
    /// The socket.
    public let socket: Socket
    /// Who hears about bytes, closure and drain.
    public var delegate: (any ConnectionDelegate)?
    /// A transport between the socket and the buffers (TLS); nil means plain reads and writes.
    public var transport: (any ByteTransport)?

    private var state = State.open
    private var token: UInt64 = 0
    private var interest: UInt32 = Interest.read
    private var readingPaused = false
    /// Taken out of the epoll set after a hangup while paused; re-added when reading resumes.
    private var parked = false
    private var output: [Chunk] = []
    /// Bytes queued and not yet written.
    public private(set) var pendingBytes = 0
    private var flushScheduled = false
    private var overWatermark = false

    /// Queued output above which `isWritable` turns false (readers feeding this connection should pause).
    public static let highWatermark = 256 * 1024
    /// Queued output below which a connection that passed `highWatermark` reports `drained`.
    public static let lowWatermark = 64 * 1024
    /// Writes up to this size are copied into a loop output buffer (so the read buffer is free again at once);
    /// larger ones are queued as they are.
    static let copyThreshold = 4096
    static let outputBufferSize = 8192
    private static let maxSpareOutput = 256

    /// A queued write; `owned` buffers came from the loop's spares and go back after the flush.
    private struct Chunk {
        var buffer: ByteBuffer
        var owned: Bool
    }


    /// Registers `socket` on `loop` for reading. Call on `loop`.
    public init(socket: Socket, loop: IOLoop, delegate: (any ConnectionDelegate)? = nil) throws(SocketError) {
        self.socket = socket
        self.loop = loop
        self.delegate = delegate
        self.token = try loop.register(socket.fd, self, interest: Interest.read)
    }

    /// How many buffers are queued (small writes share one): for tests of coalescing.
    var queuedChunks: Int { self.output.count }

    /// Whether queued output is below `highWatermark`.
    public var isWritable: Bool { self.pendingBytes < Self.highWatermark }

    /// Whether the connection is closed (or closing once its output is written).
    public var isClosed: Bool {
        switch self.state {
        case .open, .moving: false
        case .closing, .closed: true
        }
    }

    // MARK: Writing

    /// Queues `bytes` for the flush at the end of this loop iteration. Dropped once the connection is closing.
    public func write(_ bytes: ByteBuffer) {
        let count = bytes.readableBytes
        guard count > 0, case .open = self.state else { return }
        if count <= Self.copyThreshold {
            self.withOutputBuffer(reserving: count) { $0.writeImmutableBuffer(bytes) }
        } else {
            self.output.append(Chunk(buffer: bytes, owned: false))
            self.pendingBytes += count
            self.scheduleFlush()
        }
    }

    /// Writes directly into the connection's output (for messages built here rather than forwarded): `body`
    /// appends to a loop output buffer. Dropped once the connection is closing.
    public func write(_ body: (inout ByteBuffer) -> Void) {
        guard case .open = self.state else { return }
        self.withOutputBuffer(reserving: 0, body)
    }

    private func withOutputBuffer(reserving count: Int, _ body: (inout ByteBuffer) -> Void) {
        let last = self.output.count - 1
        if last < 0 || !self.output[last].owned || self.output[last].buffer.writableBytes < max(count, 1) {
            let buffer = self.loop.spareOutput.popLast()
                ?? ByteBufferAllocator().buffer(capacity: Self.outputBufferSize)
            self.output.append(Chunk(buffer: buffer, owned: true))
        }
        let tail = self.output.count - 1
        let before = self.output[tail].buffer.readableBytes
        body(&self.output[tail].buffer)
        self.pendingBytes += self.output[tail].buffer.readableBytes - before
        self.scheduleFlush()
    }

    private func scheduleFlush() {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        self.loop.needsFlush(self)
    }

    /// Writes what is queued; on a full socket, waits for it to become writable. Called by the loop.
    func flushNow() {
        self.flushScheduled = false
        switch self.state {
        case .closed, .moving: return
        case .open, .closing: break
        }
        while !self.output.isEmpty {
            let count = min(self.output.count, IOLoop.iovecCapacity)
            let iovecs = self.loop.iovecs
            var total = 0
            for i in 0..<count {
                self.output[i].buffer.withUnsafeReadableBytes { bytes in
                    // The pointer outlives the closure only for the write below; `output` keeps the storage alive.
                    iovecs[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
                    total += bytes.count
                }
            }
            let result = self.transport.map { $0.write(self.socket, iovecs, count: count) }
                ?? PlainIO.write(self.socket, iovecs, count: count)
            switch result {
            case .bytes(let written):
                self.consume(written)
                if written < total {
                    self.setWriteInterest(true)
                    return
                }
            case .wouldBlock:
                self.setWriteInterest(true)
                return
            case .endOfFile:
                self.fail(nil)
                return
            case .failed(let error):
                self.fail(error)
                return
            }
        }
        self.setWriteInterest(false)
        if case .closing = self.state {
            self.finishClose()
            return
        }
        if self.overWatermark {
            self.overWatermark = false
            self.delegate?.drained(self)
        }
    }

    private func consume(_ written: Int) {
        var left = written
        var done = 0
        while done < self.output.count, left > 0 {
            let size = self.output[done].buffer.readableBytes
            if size > left {
                self.output[done].buffer.moveReaderIndex(forwardBy: left)
                left = 0
                break
            }
            left -= size
            done += 1
        }
        for i in 0..<done where self.output[i].owned {
            self.giveBack(&self.output[i].buffer)
        }
        self.output.removeFirst(done)
        self.pendingBytes -= written
        if self.pendingBytes >= Self.highWatermark {
            self.overWatermark = true
        } else if self.overWatermark, self.pendingBytes < Self.lowWatermark, !self.output.isEmpty {
            self.overWatermark = false
            self.delegate?.drained(self)
        }
    }

    private func giveBack(_ buffer: inout ByteBuffer) {
        guard self.loop.spareOutput.count < Self.maxSpareOutput, buffer.capacity <= 4 * Self.outputBufferSize else {
            return
        }
        buffer.clear()
        self.loop.spareOutput.append(buffer)
    }

    // MARK: Reading

    func handleEvents(_ events: UInt32) {
        if events & Interest.write != 0 {
            self.flushNow()
        }
        if events & Interest.hangup != 0, self.readingPaused, self.isOpen {
            // epoll reports a hangup whatever the interest: park the socket until reading resumes, or it would
            // fire on every iteration.
            self.loop.deregister(self.socket.fd, token: self.token)
            self.parked = true
            return
        }
        if events & (Interest.read | Interest.hangup) != 0 {
            self.readable()
        }
    }

    private func readable() {
        guard case .open = self.state, !self.readingPaused else { return }
        repeat {
            self.loop.readBuffer.clear()
            var result = TransportResult.wouldBlock(wantsWrite: false)
            let socket = self.socket
            let transport = self.transport
            self.loop.readBuffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { space in
                result = transport.map { $0.read(socket, into: space) } ?? PlainIO.read(socket, into: space)
                if case .bytes(let count) = result { return count }
                return 0
            }
            switch result {
            case .bytes:
                self.delegate?.received(self.loop.readBuffer, on: self)
            case .wouldBlock(let wantsWrite):
                if wantsWrite { self.setWriteInterest(true) }
                return
            case .endOfFile:
                self.fail(nil)
                return
            case .failed(let error):
                self.fail(error)
                return
            }
            // A TLS transport may hold decrypted bytes the kernel no longer reports.
        } while self.transport?.hasBufferedInput == true && !self.readingPaused && self.isOpen
    }

    private var isOpen: Bool {
        if case .open = self.state { return true }
        return false
    }

    /// Stops reading (backpressure): bytes stay in the kernel until `resumeReading()`.
    public func pauseReading() {
        guard !self.readingPaused else { return }
        self.readingPaused = true
        self.updateInterest()
    }

    /// Starts reading again after `pauseReading()`.
    public func resumeReading() {
        guard self.readingPaused else { return }
        self.readingPaused = false
        if self.parked {
            self.parked = false
            self.interest |= Interest.read
            do {
                self.token = try self.loop.register(self.socket.fd, self, interest: self.interest)
            } catch {
                self.loop.enqueue { [self] in self.fail(error) }
            }
            return
        }
        self.updateInterest()
        if self.transport?.hasBufferedInput == true {
            self.loop.enqueue { [self] in self.readable() }
        }
    }

    private func setWriteInterest(_ on: Bool) {
        let wanted = on ? (self.interest | Interest.write) : (self.interest & ~Interest.write)
        guard wanted != self.interest else { return }
        self.interest = wanted
        self.applyInterest()
    }

    private func updateInterest() {
        let wanted = self.readingPaused ? (self.interest & ~Interest.read) : (self.interest | Interest.read)
        guard wanted != self.interest else { return }
        self.interest = wanted
        self.applyInterest()
    }

    private func applyInterest() {
        switch self.state {
        case .open, .closing:
            if !self.parked { self.loop.modify(self.socket.fd, token: self.token, interest: self.interest) }
        case .closed, .moving: break
        }
    }

    // MARK: Closing

    /// Closes after queued output is written (at once when nothing is queued). The delegate hears nothing.
    public func close() {
        guard case .open = self.state else { return }
        if self.output.isEmpty {
            self.finishClose()
        } else {
            self.state = .closing
            self.readingPaused = true
            self.updateInterest()
            self.scheduleFlush()
        }
    }

    /// Closes now, dropping queued output. The delegate hears nothing.
    public func abort() {
        switch self.state {
        case .open, .closing: self.finishClose()
        case .closed, .moving: break
        }
    }

    private func fail(_ error: SocketError?) {
        let wasClosing: Bool
        if case .closing = self.state { wasClosing = true } else { wasClosing = false }
        let delegate = self.delegate
        self.finishClose()
        if !wasClosing {
            delegate?.closed(self, error: error)
        }
    }

    private func finishClose() {
        self.transport?.willClose(self.socket)
        if !self.parked {
            self.loop.release(self.token)  // closing the descriptor takes it out of the epoll set
        }
        self.parked = false
        self.socket.close()
        self.state = .closed
        for i in self.output.indices where self.output[i].owned {
            self.giveBack(&self.output[i].buffer)
        }
        self.output = []
        self.pendingBytes = 0
        self.delegate = nil
    }

    // MARK: Moving between loops

    /// Moves the connection to `target`: leaves this loop's epoll set and joins `target`'s, where `arrived` then
    /// runs. Only an idle connection moves (nothing queued, not paused); returns false and stays put otherwise.
    ///
    /// The connection and `arrived` change threads with the move: the caller gives up every reference to them on
    /// this loop. When `target` has stopped, the connection closes there instead and `arrived` is not called.
    @discardableResult
    public func move(to target: IOLoop, arrived: @escaping (Connection) -> Void) -> Bool {
        guard case .open = self.state, self.output.isEmpty, !self.readingPaused,
            self.transport?.hasBufferedInput != true
        else {
            return false
        }
        guard target !== self.loop else {
            self.loop.enqueue { [self] in arrived(self) }
            return true
        }
        self.loop.deregister(self.socket.fd, token: self.token)
        self.state = .moving
        let ticket = MoveTicket(connection: self, arrived: arrived)
        let posted = target.execute {
            ticket.connection.arrive(on: target, ticket.arrived)
        }
        if !posted {
            self.socket.close()
            self.state = .closed
        }
        return true
    }

    private func arrive(on target: IOLoop, _ arrived: (Connection) -> Void) {
        self.loop = target
        do {
            self.token = try target.register(self.socket.fd, self, interest: self.interest)
            self.state = .open
            arrived(self)
        } catch {
            self.socket.close()
            self.state = .closed
            let delegate = self.delegate
            self.delegate = nil
            delegate?.closed(self, error: error)
        }
    }
}

extension Connection: Selectable {}

/// A connection on its way to another loop, with what to run when it arrives; the sending loop keeps no reference.
private final class MoveTicket: @unchecked Sendable {
    let connection: Connection
    let arrived: (Connection) -> Void

    init(connection: Connection, arrived: @escaping (Connection) -> Void) {
        self.connection = connection
        self.arrived = arrived
    }
}

/// Carries a value whose ownership moves to another thread with it; the sender keeps no reference. A class: a
/// generic struct of this shape holding a tuple was over-released when captured by a `@Sendable` closure
/// (Swift 6.3.1, debug build).
final class UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
