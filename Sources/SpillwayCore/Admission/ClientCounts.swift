/// Logged-in client connections per database and per user, and the limits PgBouncer puts on them:
/// `max_db_client_connections` and `max_user_client_connections` (0 is unlimited). Each admits exactly its
/// number; the next client gets 53300.
public struct ClientCounts: Sendable, Equatable {
    /// Counted clients per database alias.
    public private(set) var databases: [String: Int] = [:]
    /// Counted clients per user.
    public private(set) var users: [String: Int] = [:]

    public init() {}

    /// Why a new client is refused.
    public enum Refusal: Sendable, Equatable {
        case database(String, limit: Int)
        case user(String, limit: Int)

        /// The 53300 primary message, naming the setting as PgBouncer does.
        public var message: String {
            switch self {
            case .database: "no more connections allowed (max_db_client_connections)"
            case .user: "no more connections allowed (max_user_client_connections)"
            }
        }

        /// The detail: which database or user, and its limit.
        public var detail: String {
            switch self {
            case .database(let name, let limit): "Database \"\(name)\" already has \(limit) client connections."
            case .user(let name, let limit): "User \"\(name)\" already has \(limit) client connections."
            }
        }
    }

    /// Counts a client of `database` and `user` unless one of the limits (0: none) is reached.
    public mutating func admit(database: String, user: String, databaseLimit: Int, userLimit: Int) -> Refusal? {
        let inDatabase = databases[database] ?? 0
        if databaseLimit > 0, inDatabase >= databaseLimit { return .database(database, limit: databaseLimit) }
        let ofUser = users[user] ?? 0
        if userLimit > 0, ofUser >= userLimit { return .user(user, limit: userLimit) }
        databases[database] = inDatabase + 1
        users[user] = ofUser + 1
        return nil
    }

    /// A counted client left.
    public mutating func left(database: String, user: String) {
        if let count = databases[database] { databases[database] = count > 1 ? count - 1 : nil }
        if let count = users[user] { users[user] = count > 1 ? count - 1 : nil }
    }
}
