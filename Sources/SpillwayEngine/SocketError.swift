import Glibc
import SystemPackage

/// A failed socket call: which call, and the errno it returned.
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The system call that failed, e.g. `"connect"`.
    public var call: String
    /// What it returned.
    public var errno: Errno

    /// Wraps the current `errno` of `call`.
    public init(_ call: String, errno: Errno = Errno(rawValue: Glibc.errno)) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(errno)" }
}
