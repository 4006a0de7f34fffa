#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine
import Synchronization

/// A listening socket shared by every loop of a group: each loop watches it with `EPOLLEXCLUSIVE`, so the kernel
/// wakes one waiting loop per incoming connection and a busy loop leaves new clients to an idle one.
public final class Listener: Sendable {
    /// A connection just accepted, on the loop that accepted it.
    public struct Accepted {
        /// The new socket: non-blocking, close-on-exec.
        public var socket: Socket
        /// The peer, as `accept` gave it.
        public var peer: NetworkAddress
        /// The loop it was accepted on; the connection is created there.
        public var loop: IOLoop
    }

    /// The listening socket.
    public let socket: Socket
    /// The bound address (with the kernel's port when bound to port 0).
    public let address: NetworkAddress
    private let registrations = Mutex<[Registration]>([])

    /// Binds and listens: TCP with `SO_REUSEADDR` (and `SO_REUSEPORT` when `reusePort`), or a Unix socket path
    /// (which must not exist). IPv6 sockets are bound IPv6-only, so `::` and `0.0.0.0` can both be listened on.
    public init(bindingTo address: NetworkAddress, backlog: Int32, reusePort: Bool = false) throws(SocketError) {
        let socket = try Socket.stream(family: address.familyValue)
        do throws(SocketError) {
            if address.family != .unix {
                try socket.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
                if reusePort { try socket.setOption(level: SOL_SOCKET, name: SO_REUSEPORT, value: 1) }
            }
            if address.family == .inet6 {
                try socket.setOption(level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1)
            }
            let bound = address.withSockAddr { Glibc.bind(socket.fd, $0, $1) }
            guard bound == 0 else { throw SocketError("bind") }
            guard Glibc.listen(socket.fd, backlog) == 0 else { throw SocketError("listen") }
            self.address = try socket.localAddress()
        } catch {
            socket.close()
            throw error
        }
        self.socket = socket
    }

    /// Starts accepting on every loop in `loops`; `accepted` runs on the loop that took the connection.
    /// `failed` hears accept errors other than the routine ones (while out of descriptors, the loop stops
    /// accepting for `pauseAfterExhaustion` and tries again).
    public func start(
        on loops: [IOLoop],
        pauseAfterExhaustion: Duration = .milliseconds(100),
        failed: @escaping @Sendable (SocketError) -> Void = { _ in },
        accepted: @escaping @Sendable (Accepted) -> Void
    ) {
        for loop in loops {
            let registration = Registration(listener: self, loop: loop, pause: pauseAfterExhaustion,
                failed: failed, accepted: accepted)
            self.registrations.withLock { $0.append(registration) }
            loop.execute { registration.attach() }
        }
    }

    /// Stops accepting on every loop and closes the socket once every loop has let go of it. `done` runs after
    /// the close, on the last loop.
    public func stop(_ done: @escaping @Sendable () -> Void = {}) {
        let registrations = self.registrations.withLock { list in
            defer { list = [] }
            return list
        }
        guard !registrations.isEmpty else {
            self.socket.close()
            done()
            return
        }
        let remaining = Mutex(registrations.count)
        for registration in registrations {
            let posted = registration.loop.execute {
                registration.detach()
                if remaining.withLock({ count in count -= 1; return count == 0 }) {
                    self.socket.close()
                    done()
                }
            }
            if !posted, remaining.withLock({ count in count -= 1; return count == 0 }) {
                self.socket.close()
                done()
            }
        }
    }

    /// The listener on one loop. Touched only on that loop after `start`.
    private final class Registration: Selectable, @unchecked Sendable {
        let listener: Listener
        let loop: IOLoop
        let pause: Duration
        let failed: @Sendable (SocketError) -> Void
        let accepted: @Sendable (Accepted) -> Void
        var token: UInt64?
        var stopped = false

        init(listener: Listener, loop: IOLoop, pause: Duration, failed: @escaping @Sendable (SocketError) -> Void,
            accepted: @escaping @Sendable (Accepted) -> Void)
        {
            self.listener = listener
            self.loop = loop
            self.pause = pause
            self.failed = failed
            self.accepted = accepted
        }

        func attach() {
            guard !self.stopped, self.token == nil else { return }
            do {
                self.token = try self.loop.register(self.listener.socket.fd, self,
                    interest: UInt32(EPOLLIN.rawValue) | Interest.exclusive)
            } catch {
                self.failed(error)
            }
        }

        func detach() {
            self.stopped = true
            if let token = self.token {
                self.loop.deregister(self.listener.socket.fd, token: token)
                self.token = nil
            }
        }

        func handleEvents(_ events: UInt32) {
            // A bounded batch per wakeup, so one loop does not take a whole storm while others sit idle.
            for _ in 0..<32 {
                var storage = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let fd = withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        spillway_accept4(self.listener.socket.fd, $0, &length,
                            Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                    }
                }
                if fd >= 0 {
                    let peer = NetworkAddress(storage: storage, length: length)
                    self.accepted(Accepted(socket: Socket(fd: fd), peer: peer, loop: self.loop))
                    continue
                }
                switch Glibc.errno {
                case EAGAIN, EINTR, ECONNABORTED, EPROTO:
                    return
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    let error = SocketError("accept4")
                    self.failed(error)
                    self.detach()
                    self.stopped = false
                    self.loop.schedule(at: self.loop.now + self.pause) { [self] in self.attach() }
                    return
                default:
                    self.failed(SocketError("accept4"))
                    return
                }
            }
        }
    }
}
