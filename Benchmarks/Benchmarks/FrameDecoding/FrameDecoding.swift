import Benchmark
import NIOCore
import PostgresWire

// FrameDecoder as the pooler drives it: one `append` per socket read, then either `next()` per frame (the
// general path) or `peek()` / `extendRun(_:)` / `takeRun()` (the forwarding path: one slice per read).

// MARK: Realistic server replies

/// Appends one backend message: Byte1 type, Int32 length (counting itself), body.
private func writeMessage(_ type: Character, into buffer: inout ByteBuffer, body: (inout ByteBuffer) -> Void) {
    buffer.writeInteger(UInt8(ascii: type.unicodeScalars.first!))
    let lengthIndex = buffer.writerIndex
    buffer.writeInteger(Int32(0))
    body(&buffer)
    buffer.setInteger(Int32(buffer.writerIndex - lengthIndex), at: lengthIndex)
}

private func writeCString(_ string: String, into buffer: inout ByteBuffer) {
    buffer.writeString(string)
    buffer.writeInteger(UInt8(0))
}

/// One RowDescription field as PostgreSQL sends it.
private func writeField(
    _ name: String, table: Int32, column: Int16, type: Int32, size: Int16, into buffer: inout ByteBuffer
) {
    writeCString(name, into: &buffer)
    buffer.writeInteger(table)  // Int32: table OID
    buffer.writeInteger(column)  // Int16: column attribute number
    buffer.writeInteger(type)  // Int32: type OID
    buffer.writeInteger(size)  // Int16: typlen
    buffer.writeInteger(Int32(-1))  // Int32: typmod
    buffer.writeInteger(Int16(0))  // Int16: format (text)
}

/// The reply to pgbench -S (`SELECT abalance FROM pgbench_accounts WHERE aid = 12345;`, simple protocol):
/// RowDescription, DataRow, CommandComplete "SELECT 1", ReadyForQuery 'I'. 4 frames, 66 bytes.
func pgbenchSelectReply() -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 128)
    writeMessage("T", into: &buffer) { body in
        body.writeInteger(Int16(1))  // Int16: field count
        writeField("abalance", table: 16_397, column: 3, type: 23, size: 4, into: &body)
    }
    writeMessage("D", into: &buffer) { body in
        body.writeInteger(Int16(1))  // Int16: column count
        body.writeInteger(Int32(1))  // Int32: value length
        body.writeString("0")
    }
    writeMessage("C", into: &buffer) { writeCString("SELECT 1", into: &$0) }
    writeMessage("Z", into: &buffer) { $0.writeInteger(UInt8(ascii: "I")) }
    return buffer
}

/// One DataRow of `SELECT * FROM pgbench_accounts` (aid, bid, abalance, filler char(84)): 115 bytes.
private func writeAccountRow(aid: Int, into buffer: inout ByteBuffer) {
    writeMessage("D", into: &buffer) { body in
        body.writeInteger(Int16(4))  // Int16: column count
        for value in [String(100_000 + aid), "1", "0", String(repeating: " ", count: 84)] {
            body.writeInteger(Int32(value.utf8.count))  // Int32: value length
            body.writeString(value)
        }
    }
}

/// As many whole DataRows as fit in 64 KiB (a full socket read in the middle of a large result).
func dataRows64KiB() -> (buffer: ByteBuffer, frames: Int) {
    var buffer = ByteBufferAllocator().buffer(capacity: 64 * 1024)
    var frames = 0
    while true {
        var row = ByteBufferAllocator().buffer(capacity: 128)
        writeAccountRow(aid: frames, into: &row)
        guard buffer.readableBytes + row.readableBytes <= 64 * 1024 else { break }
        buffer.writeImmutableBuffer(row)
        frames += 1
    }
    return (buffer, frames)
}

/// A large result as a byte stream of about `reads` × 64 KiB cut into 64 KiB reads, as a socket delivers it:
/// almost every read ends inside a DataRow, whose rest comes with the next read. The stream holds whole rows
/// (its last read is a little shorter), so the reads can be replayed in a cycle.
func dataRowStream(reads: Int) -> [ByteBuffer] {
    var all = ByteBufferAllocator().buffer(capacity: reads * 64 * 1024)
    var aid = 0
    while true {
        var row = ByteBufferAllocator().buffer(capacity: 128)
        writeAccountRow(aid: aid, into: &row)
        guard all.readableBytes + row.readableBytes <= reads * 64 * 1024 else { break }
        all.writeImmutableBuffer(row)
        aid += 1
    }
    var chunks: [ByteBuffer] = []
    while all.readableBytes > 0 {
        chunks.append(all.readSlice(length: min(64 * 1024, all.readableBytes))!)
    }
    return chunks
}

// MARK: Benchmarks

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 2_000
    )
    Benchmark.defaultConfiguration.timeUnits = .nanoseconds

    let reply = pgbenchSelectReply()
    let rows = dataRows64KiB()

    // (a) pgbench -S reply, one frame at a time. One inner iteration = one reply = 4 frames.
    Benchmark("next() pgbench -S reply (4 frames)") { benchmark in
        var decoder = FrameDecoder()
        for _ in benchmark.scaledIterations {
            decoder.append(reply)
            while let frame = try! decoder.next() {
                blackHole(frame)
            }
        }
    }

    // (b) The same reply through the forwarding path: headers read, one slice out. Reads ReadyForQuery's
    // status as ClientConnection.forwardServerFrames does.
    Benchmark("run pgbench -S reply (4 frames)") { benchmark in
        var decoder = FrameDecoder()
        for _ in benchmark.scaledIterations {
            decoder.append(reply)
            while let header = try! decoder.peek() {
                if header.type == UInt8(ascii: "Z") { blackHole(header.readyForQueryStatus) }
                decoder.extendRun(header)
            }
            blackHole(decoder.takeRun())
        }
    }

    // (c) A 64 KiB read of whole DataRows, both ways. One iteration = one buffer (frames in the name).
    Benchmark(
        "next() 64 KiB of DataRows (\(rows.frames) frames)",
        configuration: .init(scalingFactor: .one, maxIterations: 20_000)
    ) { benchmark in
        var decoder = FrameDecoder()
        for _ in benchmark.scaledIterations {
            decoder.append(rows.buffer)
            while let frame = try! decoder.next() {
                blackHole(frame)
            }
        }
    }

    Benchmark(
        "run 64 KiB of DataRows (\(rows.frames) frames)",
        configuration: .init(scalingFactor: .one, maxIterations: 20_000)
    ) { benchmark in
        var decoder = FrameDecoder()
        for _ in benchmark.scaledIterations {
            decoder.append(rows.buffer)
            while let header = try! decoder.peek() {
                decoder.extendRun(header)
            }
            blackHole(decoder.takeRun())
        }
    }

    // (d) A large result (~1 MiB of DataRows) in 64 KiB reads cut mid-frame: the partial DataRow at the end of
    // each read stays in the decoder and the next read is appended behind it. The run of each read is dropped
    // before the next read arrives. One iteration = the whole result, 16 reads.
    let stream = dataRowStream(reads: 16)
    let streamFrames = stream.reduce(0) { $0 + $1.readableBytes } / 115
    Benchmark(
        "run 1 MiB result in 16 reads split mid-frame (\(streamFrames) frames)",
        configuration: .init(scalingFactor: .one, maxIterations: 5_000)
    ) { benchmark in
        var decoder = FrameDecoder()
        for read in stream {
            decoder.append(read)
            while let header = try! decoder.peek() {
                decoder.extendRun(header)
            }
            blackHole(decoder.takeRun())
        }
        precondition(decoder.bufferedBytes == 0)
    }

    // (e) The same, but each read's run is still referenced when the next read arrives, as when it waits in the
    // client channel's outbound buffer for a flush: the decoder then no longer holds its storage alone.
    Benchmark(
        "run 1 MiB result in 16 reads split mid-frame, previous run still queued (\(streamFrames) frames)",
        configuration: .init(scalingFactor: .one, maxIterations: 5_000)
    ) { benchmark in
        var decoder = FrameDecoder()
        var queued: ByteBuffer?
        for read in stream {
            decoder.append(read)
            queued = nil  // written out only now, after the next read was appended
            while let header = try! decoder.peek() {
                decoder.extendRun(header)
            }
            queued = decoder.takeRun()
        }
        blackHole(queued)
        precondition(decoder.bufferedBytes == 0)
    }
}
