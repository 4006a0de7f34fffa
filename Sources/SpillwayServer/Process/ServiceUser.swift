#if canImport(Glibc)
import Glibc
#endif

/// The OS user Spillway serves as (`user`). Like PgBouncer, Spillway does not serve as root: started as root it
/// needs `user = NAME`, binds its listeners and opens its log and pid files, then takes that user's uid, gid
/// and supplementary groups for good before the first client is served. Started as anyone else, `user` may only
/// name that same user.
public struct ServiceUser: Sendable, Equatable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t

    /// Why Spillway will not start as it was asked to.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// Looks `name` up in the user database.
    public static func named(_ name: String) throws(Refusal) -> ServiceUser {
        guard let entry = getpwnam(name) else {
            throw Refusal(description: "user = \(name): no such user on this system")
        }
        return ServiceUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// What start-up must do about identity: nothing, or switch to the returned user after binding.
    /// Throws for root without `user`, for a `user` that is root, and for a non-root process asked to become
    /// someone else.
    public static func plan(configured name: String?, euid: uid_t = geteuid()) throws(Refusal) -> ServiceUser? {
        guard let name else {
            guard euid != 0 else {
                throw Refusal(description:
                    "refusing to run as root: set user = NAME in the [pgbouncer] section (Spillway binds its "
                    + "listeners, then switches to that user), or start it as an unprivileged user")
            }
            return nil
        }
        let user = try named(name)
        guard user.uid != 0 else {
            throw Refusal(description: "user = \(name): that is root; name an unprivileged user")
        }
        if euid == 0 { return user }
        guard user.uid == euid else {
            throw Refusal(description:
                "user = \(name): spillway runs as uid \(euid) and only root can switch to another user; start it "
                + "as root or as \(name)")
        }
        return nil
    }

    /// Takes this user's groups, gid and uid for good (root cannot be regained), on every thread.
    public func become() throws(Refusal) {
        guard initgroups(name, gid) == 0 else {
            throw Refusal(description: "user = \(name): initgroups failed: \(String(cString: strerror(errno)))")
        }
        guard setgid(gid) == 0 else {
            throw Refusal(description: "user = \(name): setgid(\(gid)) failed: \(String(cString: strerror(errno)))")
        }
        guard setuid(uid) == 0 else {
            throw Refusal(description: "user = \(name): setuid(\(uid)) failed: \(String(cString: strerror(errno)))")
        }
        // A process that can get root back has not dropped it.
        guard geteuid() == uid, getuid() == uid, setuid(0) != 0 else {
            throw Refusal(description: "user = \(name): still able to regain root after setuid; refusing to serve")
        }
    }
}
