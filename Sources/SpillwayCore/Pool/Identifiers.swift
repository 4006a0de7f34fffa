/// A client: an application's connection to Spillway. Unique for the life of the process.
public struct ClientID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }
    public static func < (lhs: ClientID, rhs: ClientID) -> Bool { lhs.raw < rhs.raw }
    public var description: String { "c\(raw)" }
}

/// A server: Spillway's connection to PostgreSQL. Unique for the life of the process.
public struct ServerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }
    public static func < (lhs: ServerID, rhs: ServerID) -> Bool { lhs.raw < rhs.raw }
    public var description: String { "s\(raw)" }
}

/// Which pool a client belongs to: the database alias it asked for and the role its servers log in as.
public struct PoolKey: Hashable, Sendable, CustomStringConvertible {
    public var database: String
    public var user: String
    public init(database: String, user: String) {
        self.database = database
        self.user = user
    }
    public var description: String { "\(database)/\(user)" }
}

/// Who is asking for a server: carried by every waiter so that later policies (fair share per application,
/// quotas per user) can choose among them without a new event.
public struct ClientTag: Hashable, Sendable {
    public var client: ClientID
    /// The event loop the client lives on; a server on the same loop is preferred.
    public var loop: Int
    /// `application_name`, or the client's address when it set none.
    public var application: String
    public init(client: ClientID, loop: Int, application: String) {
        self.client = client
        self.loop = loop
        self.application = application
    }
}
