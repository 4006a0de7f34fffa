#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import PostgresWire

/// A PostgreSQL client for driver tests: blocking calls on a Unix socket, each read bounded by a deadline
/// (poll), so a test that gets no answer fails instead of hanging. Used from synchronous tests only: the
/// engine runs on its own threads.
final class BlockingWireClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var decoder = FrameDecoder()
    /// Everything received, as (type, body) of each frame, since the last `take()`.
    private(set) var frames: [Frame] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw Failure(description: "connect to \(path): errno \(errno)") }
    }

    deinit { close(fd) }

    func send(_ buffer: ByteBuffer) throws {
        var buffer = buffer
        while buffer.readableBytes > 0 {
            let written = buffer.withUnsafeReadableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw Failure(description: "write: errno \(errno)") }
            buffer.moveReaderIndex(forwardBy: written)
        }
    }

    func send(_ messages: FrontendMessage...) throws {
        var buffer = ByteBuffer()
        for message in messages { message.encode(into: &buffer) }
        try send(buffer)
    }

    /// Sends a typed frame FrontendMessage does not encode (Parse, Bind, Execute, CopyData ...).
    func send(frame type: MessageType, _ body: (inout ByteBuffer) -> Void = { _ in }) throws {
        var payload = ByteBuffer()
        body(&payload)
        try send(Frame(type: type, body: payload).bytes)
    }

    /// Sends a CancelRequest for `key` (on a connection of its own, as libpq does).
    func sendCancel(_ key: CancelRequest) throws {
        var buffer = ByteBuffer()
        key.encode(into: &buffer)
        try send(buffer)
    }

    /// Sends a StartupMessage and reads to the first ReadyForQuery (or an error).
    @discardableResult
    func login(user: String = "app", database: String = "app") throws -> [Frame] {
        var buffer = ByteBuffer()
        StartupMessage(parameters: [("user", user), ("database", database)]).encode(into: &buffer)
        try send(buffer)
        return try readUntilReady()
    }

    /// Reads frames until a ReadyForQuery (included) or until the server closes; fails after `timeout`.
    @discardableResult
    func readUntilReady(timeout: Duration = .seconds(5)) throws -> [Frame] {
        try read(until: { $0.type == .readyForQuery }, timeout: timeout)
    }

    /// Reads frames until one satisfies `done` (included), a FATAL error, or the server closing; fails after
    /// `timeout`.
    func read(until done: (Frame) -> Bool, timeout: Duration = .seconds(5)) throws -> [Frame] {
        let deadline = ContinuousClock.now + timeout
        var got: [Frame] = []
        while true {
            while let frame = try decoder.next() {
                got.append(frame)
                if done(frame) { return got }
                if frame.type == .errorResponse, let error = try? ErrorResponse(body: frame.body),
                    error.severity == "FATAL"
                {
                    return got
                }
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw Failure(description: "nothing expected within \(timeout); got \(got.map(\.type))")
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) + 1
            guard poll(&poller, 1, ms) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = Glibc.read(fd, &chunk, chunk.count)
            guard count > 0 else { return got }  // closed
            decoder.append(ByteBuffer(bytes: chunk[..<count]))
        }
    }

    /// Reads raw bytes until `count` arrived or the server closed; fails after `timeout`.
    func readBytes(_ count: Int, timeout: Duration = .seconds(5)) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var got: [UInt8] = []
        while got.count < count {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Failure(description: "\(count) bytes expected within \(timeout); got \(got)") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left.components.seconds * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: count - got.count)
            let read = Glibc.read(fd, &chunk, chunk.count)
            guard read > 0 else { return got }
            got += chunk[..<read]
        }
        return got
    }

    /// True once the server has closed the connection (end of file within `timeout`, after any frames).
    func isClosedByServer(timeout: Duration = .seconds(5)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let read = Glibc.read(fd, &chunk, chunk.count)
            if read <= 0 { return true }
        }
        return false
    }

    /// An md5 login: StartupMessage, the password answered for the salt given, frames to ReadyForQuery or a
    /// FATAL.
    @discardableResult
    func md5Login(user: String, password: String, database: String, extra: [(String, String)] = []) throws -> [Frame] {
        var buffer = ByteBuffer()
        StartupMessage(parameters: [("user", user), ("database", database)] + extra.map { (name: $0.0, value: $0.1) })
            .encode(into: &buffer)
        try send(buffer)
        let request = try read(until: { $0.type == .authentication || $0.type == .errorResponse })
        guard case .authentication(.md5Password(let salt))? = request.last.flatMap({ try? BackendMessage(frame: $0) })
        else { return request }
        try send(.password(Array(MD5Password.response(user: user, password: password, salt: salt).utf8)))
        return try readUntilReady()
    }

    /// Runs a simple query; returns the frames of its answer.
    func query(_ sql: String) throws -> [Frame] {
        try send(.query(sql))
        return try readUntilReady()
    }
}

extension [Frame] {
    var types: [MessageType] { map(\.type) }

    /// The text of the first column of every DataRow.
    var firstColumns: [String] {
        compactMap { frame in
            guard frame.type == .dataRow else { return nil }
            var body = frame.body
            _ = body.readInteger(as: Int16.self)
            guard let length = body.readInteger(as: Int32.self), length >= 0 else { return nil }
            return body.readString(length: Int(length))
        }
    }

    /// The transaction status of the last ReadyForQuery.
    var status: TransactionStatus? { last?.readyForQueryStatus }

    /// The BackendKeyData of a login.
    var backendKey: CancelRequest? {
        first { $0.type == .backendKeyData }.flatMap {
            if case .backendKeyData(let key)? = try? BackendMessage(frame: $0) { return key }
            return nil
        }
    }

    /// The SQLSTATE of the first ErrorResponse.
    var errorCode: String? {
        first { $0.type == .errorResponse }.flatMap { try? ErrorResponse(body: $0.body) }?.code?.rawValue
    }
}
