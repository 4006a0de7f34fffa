import PostgresWire

/// How a password is stored for a role in auth_file: a plain password, PostgreSQL's md5 hash, or its
/// SCRAM-SHA-256 secret. Text that only looks like a hash or secret is a plain password, as in PostgreSQL.
public enum StoredPassword: Sendable, Equatable {
    case plain(String)
    /// "md5" + hex(md5(password + user)).
    case md5(String)
    case scram(SCRAMSecret)

    public init(_ text: String) {
        if let secret = SCRAMSecret(parsing: text) {
            self = .scram(secret)
        } else if MD5Password.isStoredHash(text) {
            self = .md5(text)
        } else {
            self = .plain(text)
        }
    }
}
