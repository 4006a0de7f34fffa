import SpillwayCore

/// Whom `spillway check` logs in as on one host, and with what password.
///
/// In order: `--user` / `--password`; else the database's forced `user=` / `password=`; else `PGUSER` (or the
/// operating-system user) with the auth_file's password for that user when it is plain text, else
/// `PGPASSWORD`. An md5 hash or SCRAM secret in auth_file cannot log a client in (the check only has what
/// PostgreSQL stores, not what the client must prove), so those fall through to `PGPASSWORD`, and `note`
/// says why if the login then fails.
public struct CheckCredentials: Sendable, Equatable {
    /// The role to log in as.
    public var user: String
    /// The password; nil tries without one (trust).
    public var password: String?
    /// Why a login could fail for want of a usable password; added to the row's error when it does.
    public var note: String?

    public init(user: String, password: String?, note: String? = nil) {
        self.user = user
        self.password = password
        self.note = note
    }

    /// Picks the credentials for logging in to `database`. `optionUser` / `optionPassword`: `--user` /
    /// `--password`; `environment`: `PGUSER`, `PGPASSWORD`; `systemUser`: the last resort for the name.
    public static func resolve(
        database: DatabaseConfig, optionUser: String?, optionPassword: String?, userList: UserList,
        environment: [String: String], systemUser: String
    ) -> CheckCredentials {
        let user = optionUser ?? database.user ?? environment["PGUSER"] ?? systemUser
        if let optionPassword {
            return CheckCredentials(user: user, password: optionPassword)
        }
        if let forced = database.user, forced == user, let password = database.password {
            return CheckCredentials(user: user, password: password)
        }
        let fallback = environment["PGPASSWORD"]
        switch userList.secret(for: user) {
        case .plain(let password):
            return CheckCredentials(user: user, password: password)
        case .md5:
            return CheckCredentials(
                user: user, password: fallback,
                note: "auth_file holds only an md5 hash for '\(user)', which cannot log the check in; "
                    + "give --password or set PGPASSWORD")
        case .scram:
            return CheckCredentials(
                user: user, password: fallback,
                note: "auth_file holds only a SCRAM secret for '\(user)', which cannot log the check in; "
                    + "give --password or set PGPASSWORD")
        case nil:
            return CheckCredentials(user: user, password: fallback)
        }
    }
}
