#if canImport(Glibc)
import Glibc
#endif
import SpillwayCore

/// Who may connect to the Unix socket: its permission bits (`unix_socket_mode`) and group
/// (`unix_socket_group`), set right after bind, before the first client can connect.
enum UnixSocketAccess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func apply(path: String, settings: Settings) throws {
        if let group = settings.unixSocketGroup {
            guard let entry = getgrnam(group) else {
                throw Failure(description: "unix_socket_group: no such group '\(group)'")
            }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                throw Failure(description: "unix_socket_group: cannot give \(path) to group '\(group)': "
                    + String(cString: strerror(errno)))
            }
        }
        guard chmod(path, mode_t(settings.unixSocketMode)) == 0 else {
            throw Failure(description: "unix_socket_mode: cannot chmod \(path): " + String(cString: strerror(errno)))
        }
    }
}
