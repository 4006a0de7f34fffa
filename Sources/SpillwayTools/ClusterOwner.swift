import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who runs `initdb`, `postgres` and `pg_ctl`. They refuse to run as root, so a root process hands the cluster
/// to the `postgres` OS user (created by Debian's postgresql package) and runs them through `runuser`.
enum ClusterOwner: Sendable {
    /// Not root: run the programs directly.
    case currentUser
    /// Root: run as this OS user, who must own the cluster's folder.
    case osUser(name: String, uid: uid_t, gid: gid_t, runuser: String)

    /// The owner for this process: itself, or `postgres` when running as root.
    static func forThisProcess() throws -> ClusterOwner {
        guard geteuid() == 0 else { return .currentUser }
        guard let entry = getpwnam("postgres") else {
            throw SetupError(
                "running as root, but there is no 'postgres' OS user to run PostgreSQL as; "
                    + "install PostgreSQL (apt-get install postgresql) or run the drill as another user")
        }
        let candidates = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
        guard let runuser = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SetupError(
                "running as root, but runuser (util-linux) is missing: cannot run PostgreSQL as 'postgres'")
        }
        return .osUser(name: "postgres", uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, runuser: runuser)
    }

    /// The executable and arguments that run `argv` as this owner.
    func command(_ argv: [String]) -> (executable: String, arguments: [String]) {
        switch self {
        case .currentUser:
            return (argv[0], Array(argv.dropFirst()))
        case .osUser(let name, _, _, let runuser):
            return (runuser, ["-u", name, "--"] + argv)
        }
    }

    /// Gives `path` to the owner (a no-op when not root).
    func take(_ path: String) throws {
        guard case .osUser(let name, let uid, let gid, _) = self else { return }
        guard chown(path, uid, gid) == 0 else {
            throw SetupError("cannot hand \(path) to the '\(name)' OS user: \(String(cString: strerror(errno)))")
        }
    }
}
