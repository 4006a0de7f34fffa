/// What a userlist.txt (or database `password=`) secret holds, in PostgreSQL's `pg_authid.rolpassword` formats.
public enum PasswordSecret: Sendable, Equatable {
    /// A cleartext password: usable for every auth method.
    case plain(String)
    /// `md5` + 32 hex digits of md5(password + user name): usable for md5 auth only.
    case md5(String)
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, salt and keys base64: SCRAM only.
    case scramSHA256(iterations: Int, salt: String, storedKey: String, serverKey: String)

    /// Classifies `text` as PostgreSQL does: anything not a well-formed md5 or SCRAM secret is a plain password.
    public init(_ text: String) {
        if let scram = Self.scram(text) {
            self = scram
        } else if text.count == 35, text.hasPrefix("md5"), text.dropFirst(3).allSatisfy(\.isHexDigit) {
            self = .md5(text)
        } else {
            self = .plain(text)
        }
    }

    private static func scram(_ text: String) -> PasswordSecret? {
        let prefix = "SCRAM-SHA-256$"
        guard text.hasPrefix(prefix) else { return nil }
        let parts = text.dropFirst(prefix.count).split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let head = parts[0].split(separator: ":", omittingEmptySubsequences: false)
        let keys = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard head.count == 2, keys.count == 2, let iterations = Int(head[0]), iterations > 0,
            !head[1].isEmpty, !keys[0].isEmpty, !keys[1].isEmpty
        else { return nil }
        return .scramSHA256(
            iterations: iterations, salt: String(head[1]), storedKey: String(keys[0]), serverKey: String(keys[1]))
    }
}
