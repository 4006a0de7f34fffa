#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine

/// A non-blocking stream socket: the file descriptor and the system calls the engine makes on it.
///
/// A value type with no ownership of its own: the `Connection`, `Listener` or connect attempt holding it closes it
/// exactly once.
public struct Socket: Sendable, Hashable {
    /// The file descriptor.
    public let fd: Int32

    /// Wraps a descriptor that is already non-blocking and close-on-exec.
    public init(fd: Int32) {
        self.fd = fd
    }

    /// A new non-blocking, close-on-exec stream socket of `family` (`AF_INET`, `AF_INET6`, `AF_UNIX`).
    public static func stream(family: Int32) throws(SocketError) -> Socket {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        return Socket(fd: fd)
    }

    /// A connected pair of Unix stream sockets, both non-blocking: what engine and driver tests talk over.
    public static func pair() throws(SocketError) -> (Socket, Socket) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SocketError("socketpair") }
        return (Socket(fd: fds[0]), Socket(fd: fds[1]))
    }

    /// Closes the descriptor (errors are not actionable after close and are ignored).
    public func close() {
        _ = Glibc.close(self.fd)
    }

    /// Sets an integer socket option, e.g. `(IPPROTO_TCP, TCP_NODELAY, 1)` or `(SOL_SOCKET, SO_KEEPALIVE, 1)`.
    public func setOption(level: Int32, name: Int32, value: Int32) throws(SocketError) {
        var value = value
        guard setsockopt(self.fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SocketError("setsockopt")
        }
    }

    /// Reads an integer socket option.
    public func option(level: Int32, name: Int32) throws(SocketError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(self.fd, level, name, &value, &length) == 0 else { throw SocketError("getsockopt") }
        return value
    }

    /// Turns off Nagle's algorithm: a TCP-level option (`IPPROTO_TCP`), not a `SOL_SOCKET` one.
    public func setNoDelay() throws(SocketError) {
        try self.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
    }

    /// The address this socket is bound to.
    public func localAddress() throws(SocketError) -> NetworkAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(self.fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError("getsockname") }
        return NetworkAddress(storage: storage, length: length)
    }

    /// The address of the peer.
    public func peerAddress() throws(SocketError) -> NetworkAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(self.fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError("getpeername") }
        return NetworkAddress(storage: storage, length: length)
    }
}
