// spillway-relay: the floor bench/compare measures poolers against. A bare byte relay on SpillwayEngine:
// every accepted client gets its own connection to the target, and bytes pass both ways unread (no pooling,
// no parsing, no login). Whatever a pooler costs above this is its own work.
//
//   spillway-relay --listen 127.0.0.1:6435 --target 127.0.0.1:5432 [--threads 2]
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import SpillwayEngine

/// One end of a relayed pair: forwards what it reads to its peer, pausing while the peer's output is full.
final class RelayEnd: ConnectionDelegate {
    var peer: RelayEnd?
    var connection: Connection?
    /// Bytes from the client that arrived before the target connection was up.
    var early: [ByteBuffer] = []

    func received(_ bytes: ByteBuffer, on connection: Connection) {
        guard let peerConnection = self.peer?.connection else {
            // Copy: the loop's read buffer is reused by the next read.
            var copy = ByteBufferAllocator().buffer(capacity: bytes.readableBytes)
            copy.writeImmutableBuffer(bytes)
            self.early.append(copy)
            return
        }
        peerConnection.write(bytes)
        if !peerConnection.isWritable { connection.pauseReading() }
    }

    func closed(_ connection: Connection, error: SocketError?) {
        // Break the pair's cycle from both sides.
        let peer = self.peer
        self.peer = nil
        self.connection = nil
        peer?.connection?.close()
        peer?.connection = nil
        peer?.peer = nil
    }

    func drained(_ connection: Connection) {
        self.peer?.connection?.resumeReading()
    }
}

/// The two ends; they hold each other (and their connections) until either side closes.
final class RelayPair {
    let client = RelayEnd()
    let server = RelayEnd()
    init() {
        self.client.peer = self.server
        self.server.peer = self.client
    }
}

func parseAddress(_ text: String) -> Endpoint? {
    if text.hasPrefix("/") { return .unix(path: text) }
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return .tcp(host: host, port: port)
}

func fail(_ message: String) -> Never {
    print("spillway-relay: \(message)")
    exit(2)
}

var listen: Endpoint?
var target: Endpoint?
var threads = 1
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--listen": listen = arguments.popFirst().flatMap(parseAddress)
    case "--target": target = arguments.popFirst().flatMap(parseAddress)
    case "--threads": threads = arguments.popFirst().flatMap { Int($0) } ?? 0
    default: fail("unknown argument \(argument)")
    }
}
guard case .tcp(let host, let port)? = listen, let address = NetworkAddress(numericHost: host, port: port) else {
    fail("--listen needs a numeric host:port")
}
guard let target, threads >= 1 else { fail("--target host:port (or a socket path) and --threads N >= 1") }

let group = try IOLoopGroup(loops: threads)
let listener = try Listener(bindingTo: address, backlog: 4096)
listener.start(on: group.loops) { incoming in
    let pair = RelayPair()
    do {
        pair.client.connection = try Connection(socket: incoming.socket, loop: incoming.loop, delegate: pair.client)
        try? incoming.socket.setNoDelay()
    } catch {
        incoming.socket.close()
        return
    }
    incoming.loop.connect(to: target, timeout: .seconds(10)) { result in
        guard case .success(let socket) = result, let client = pair.client.connection,
            let server = try? Connection(socket: socket, loop: incoming.loop, delegate: pair.server)
        else {
            pair.client.connection?.close()
            return
        }
        pair.server.connection = server
        for bytes in pair.client.early { server.write(bytes) }
        pair.client.early = []
        _ = client
    }
}
print("spillway-relay: \(listener.address) -> \(target), \(threads) thread(s)")
signal(SIGTERM) { _ in exit(0) }
signal(SIGINT) { _ in exit(0) }
while true { pause() }
