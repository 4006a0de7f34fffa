import NIOCore
import Synchronization
import Testing

@testable import SpillwayEngine

@Suite struct ConnectionTests {
    /// Bytes written on one end of a socketpair arrive at the other, and an echo comes back.
    @Test func bytesArriveAndEchoBack() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let (a, b) = try Socket.pair()
            let echoed = try await loop.wait("the echo") { (done: @escaping @Sendable ([UInt8]) -> Void) in
                let echo = Recorder()
                echo.echo = true
                let client = Recorder()
                let server = try! Connection(socket: a, loop: loop, delegate: echo)
                let peer = try! Connection(socket: b, loop: loop, delegate: client)
                client.onBytes = {
                    if client.bytes.count == 9 {
                        done(client.bytes)
                        _ = (server, peer)
                    }
                }
                peer.write(buffer("ping"))
                peer.write(buffer("-pong"))
            }
            #expect(String(decoding: echoed, as: UTF8.self) == "ping-pong")
        }
    }

    /// Small writes in one iteration share one output buffer: one chunk, one system call at the flush.
    @Test func smallWritesInOneIterationAreCoalesced() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let (a, b) = try Socket.pair()
            let (chunks, pending) = try await loop.run {
                let connection = try Connection(socket: a, loop: loop)
                connection.write(buffer("one"))
                connection.write(buffer("two"))
                connection.write { $0.writeString("three") }
                defer { connection.abort() }
                return (connection.queuedChunks, connection.pendingBytes)
            }
            #expect(chunks == 1)
            #expect(pending == 11)
            b.close()
        }
    }

    /// A connection whose peer does not read keeps its output, reports not writable past the high watermark,
    /// and tells its delegate once the peer catches up; every byte arrives in order.
    @Test func backpressureReportsDrainAndLosesNothing() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let (a, b) = try Socket.pair()
            let size = 2 * 1024 * 1024
            let sender = Recorder()
            let receiver = Recorder()
            let state = Box((sender, receiver))
            let blocked = try await loop.wait("the writer to fill the socket") { (done: @escaping @Sendable (Bool) -> Void) in
                let (sender, _) = state.value
                let writer = try! Connection(socket: a, loop: loop, delegate: sender)
                var payload = ByteBufferAllocator().buffer(capacity: size)
                for i in 0..<size { payload.writeInteger(UInt8(truncatingIfNeeded: i)) }
                writer.write(payload)
                loop.enqueue {
                    // Still in the same iteration: nothing flushed yet.
                    precondition(writer.pendingBytes == size)
                }
                loop.schedule(at: loop.now + .milliseconds(20)) {
                    done(!writer.isWritable)
                    sender.onDrained = { _ = writer }
                }
            }
            #expect(blocked)
            let received = try await loop.wait("every byte") { (done: @escaping @Sendable (Int) -> Void) in
                let (sender, receiver) = state.value
                let reader = try! Connection(socket: b, loop: loop, delegate: receiver)
                receiver.onBytes = {
                    if receiver.bytes.count == size, sender.drainedCount >= 1 {
                        done(receiver.bytes.count)
                        _ = reader
                    }
                }
                sender.onDrained = {
                    if receiver.bytes.count == size { done(size) }
                }
            }
            #expect(received == size)
            let (sender2, receiver2) = state.value
            #expect(sender2.drainedCount >= 1)
            #expect(receiver2.bytes.enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: $0.offset) })
        }
    }

    /// The peer closing is reported as an orderly end of file; writes queued before `close()` still arrive.
    @Test func closeFlushesFirstAndPeerSeesEndOfFile() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let (a, b) = try Socket.pair()
            let (bytes, closed) = try await loop.wait("end of file") { (done: @escaping @Sendable (([UInt8], Bool)) -> Void) in
                let reader = Recorder()
                let closer = try! Connection(socket: a, loop: loop)
                let peer = try! Connection(socket: b, loop: loop, delegate: reader)
                reader.onClosed = {
                    done((reader.bytes, reader.closedWith == .some(nil)))
                    _ = peer
                }
                closer.write(buffer("bye"))
                closer.close()
                precondition(closer.isClosed)
            }
            #expect(String(decoding: bytes, as: UTF8.self) == "bye")
            #expect(closed)
        }
    }

    /// While reading is paused, bytes wait in the kernel; on resume they arrive.
    @Test func pausedReadingLeavesBytesInTheKernel() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let (a, b) = try Socket.pair()
            let reader = Recorder()
            let box = Box(reader)
            let early = try await loop.wait("a quiet moment") { (done: @escaping @Sendable (Int) -> Void) in
                let reader = box.value
                let connection = try! Connection(socket: a, loop: loop, delegate: reader)
                connection.pauseReading()
                let writer = try! Connection(socket: b, loop: loop)
                writer.write(buffer("held"))
                loop.schedule(at: loop.now + .milliseconds(30)) {
                    done(reader.bytes.count)
                    reader.onBytes = { _ = (connection, writer) }
                    connection.resumeReading()
                }
            }
            #expect(early == 0)
            let late = try await loop.wait("the held bytes") { (done: @escaping @Sendable ([UInt8]) -> Void) in
                let reader = box.value
                if reader.bytes.count == 4 { done(reader.bytes) } else { reader.onBytes = { done(reader.bytes) } }
            }
            #expect(String(decoding: late, as: UTF8.self) == "held")
        }
    }

    /// A connection moved to another loop keeps its socket and delegate and is served by the new loop.
    @Test func connectionMovesToAnotherLoop() async throws {
        try await withGroup(loops: 2) { group in
            let (a, b) = try Socket.pair()
            let echo = Recorder()
            echo.echo = true
            let box = Box(echo)
            // The echoing end starts on loop 0 and moves to loop 1.
            let moved = try await group.loops[0].wait("the move") { (done: @escaping @Sendable (Bool) -> Void) in
                let connection = try! Connection(socket: a, loop: group.loops[0], delegate: box.value)
                let started = connection.move(to: group.loops[1]) { arrived in
                    done(arrived.loop === group.loops[1] && group.loops[1].inLoop)
                }
                precondition(started)
            }
            #expect(moved)
            let reply = try await group.loops[0].wait("the echo from loop 1") { (done: @escaping @Sendable ([UInt8]) -> Void) in
                let client = Recorder()
                let peer = try! Connection(socket: b, loop: group.loops[0], delegate: client)
                client.onBytes = {
                    if client.bytes.count == 5 {
                        done(client.bytes)
                        _ = peer
                    }
                }
                peer.write(buffer("moved"))
            }
            #expect(String(decoding: reply, as: UTF8.self) == "moved")
            let loops = try await group.loops[1].run { box.value.callbackLoops }
            #expect(loops == [1])
        }
    }

    /// A connection with output queued does not move.
    @Test func busyConnectionDoesNotMove() async throws {
        try await withGroup(loops: 2) { group in
            let (a, b) = try Socket.pair()
            let refused = try await group.loops[0].run {
                let connection = try Connection(socket: a, loop: group.loops[0])
                connection.write(buffer("queued"))
                defer { connection.abort() }
                return !connection.move(to: group.loops[1]) { _ in }
            }
            #expect(refused)
            b.close()
        }
    }

    /// Reads leave the loop's read buffer free when the delegate keeps nothing: the same storage is reused.
    @Test func readBufferIsReusedWhenNothingIsKept() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let (a, b) = try Socket.pair()
            let addresses = try await loop.wait("two reads") { (done: @escaping @Sendable ([UInt]) -> Void) in
                let reader = Recorder()
                let connection = try! Connection(socket: a, loop: loop, delegate: reader)
                let writer = try! Connection(socket: b, loop: loop)
                var seen: [UInt] = []
                reader.onBytes = {
                    seen.append(loop.readBuffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) })
                    if seen.count == 1 {
                        writer.write(buffer("second"))
                    } else {
                        done(seen)
                        _ = connection
                    }
                }
                writer.write(buffer("first"))
            }
            #expect(addresses.count == 2)
            #expect(addresses[0] == addresses[1])
        }
    }
}
