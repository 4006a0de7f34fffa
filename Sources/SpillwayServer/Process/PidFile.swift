#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `pidfile`: the process id, written once Spillway listens and removed when it exits. A file naming a live
/// process stops a second Spillway from starting on top of the first; a stale one (its process gone) is replaced.
public final class PidFile: Sendable {
    public let path: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private init(path: String) {
        self.path = path
    }

    /// Refuses when `path` names a live process; otherwise nothing is written yet.
    public static func check(_ path: String) throws(Failure) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return }
        // kill(pid, 0): 0 or EPERM means the process exists.
        if pid != getpid(), kill(pid, 0) == 0 || errno == EPERM {
            throw Failure(description: "pidfile \(path) names process \(pid), which is still running: is another "
                + "spillway running? Stop it, or remove the file if that process is not spillway")
        }
    }

    /// Writes this process's id to `path` (0644), owned by `owner` when given (the `user` it will run as, so
    /// that it can remove the file at exit).
    public static func write(_ path: String, owner: (uid: uid_t, gid: gid_t)? = nil) throws(Failure) -> PidFile {
        try check(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw Failure(description: "pidfile: cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array("\(getpid())\n".utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw Failure(description: "pidfile: cannot write \(path): \(String(cString: strerror(errno)))")
        }
        if let owner { _ = fchown(fd, owner.uid, owner.gid) }
        return PidFile(path: path)
    }

    /// Removes the file if it still names this process.
    public func remove() {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == getpid()
        else { return }
        unlink(path)
    }
}
