#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine
import SystemPackage

/// What one read or write on a transport did.
public enum TransportResult: Equatable, Sendable {
    /// This many bytes moved (more than zero).
    case bytes(Int)
    /// Nothing can move now; try again when the socket is ready (for TLS: `wantsWrite` when a read needs the socket
    /// to be writable first, as during renegotiation).
    case wouldBlock(wantsWrite: Bool)
    /// The peer closed its side.
    case endOfFile
    /// The call failed; the connection is lost.
    case failed(SocketError)
}

/// Where a connection's bytes go between its buffers and the socket: plain reads and writes, or a TLS layer.
///
/// A TLS implementation reads ciphertext from the socket and returns plaintext, and may hold decrypted bytes the
/// kernel no longer reports as readable: `hasBufferedInput` makes the connection read again without an epoll event.
public protocol ByteTransport: AnyObject {
    /// Reads up to `buffer.count` bytes of plaintext.
    func read(_ socket: Socket, into buffer: UnsafeMutableRawBufferPointer) -> TransportResult
    /// Writes the bytes of `count` iovecs, in order; returns how many bytes were taken.
    func write(_ socket: Socket, _ iovecs: UnsafePointer<iovec>, count: Int) -> TransportResult
    /// Whether bytes are ready to read without the socket being readable.
    var hasBufferedInput: Bool { get }
    /// Called once before the socket is closed (e.g. to send a TLS close_notify).
    func willClose(_ socket: Socket)
}

/// Plain system calls on the socket; the path every connection takes unless a transport is installed.
enum PlainIO {
    @inline(__always)
    static func read(_ socket: Socket, into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        while true {
            let count = Glibc.read(socket.fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfFile }
            switch Glibc.errno {
            case EINTR: continue
            case EAGAIN: return .wouldBlock(wantsWrite: false)
            default: return .failed(SocketError("read"))
            }
        }
    }

    @inline(__always)
    static func write(_ socket: Socket, _ iovecs: UnsafePointer<iovec>, count: Int) -> TransportResult {
        while true {
            // send/sendmsg with MSG_NOSIGNAL: a peer that went away is an EPIPE here, never a SIGPIPE.
            let written: Int
            if count == 1 {
                written = send(socket.fd, iovecs[0].iov_base, iovecs[0].iov_len, Int32(MSG_NOSIGNAL))
            } else {
                var message = msghdr()
                message.msg_iov = UnsafeMutablePointer(mutating: iovecs)
                message.msg_iovlen = count
                written = sendmsg(socket.fd, &message, Int32(MSG_NOSIGNAL))
            }
            if written >= 0 { return .bytes(written) }
            switch Glibc.errno {
            case EINTR: continue
            case EAGAIN: return .wouldBlock(wantsWrite: true)
            default: return .failed(SocketError(count == 1 ? "send" : "sendmsg"))
            }
        }
    }
}
