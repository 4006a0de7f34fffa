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
    public let database: String
    public let user: String
    /// Both names hashed once: pools are looked up by key several times per transaction, and hashing two
    /// strings each time showed up in profiles.
    private let nameHash: Int

    public init(database: String, user: String) {
        self.database = database
        self.user = user
        var hasher = Hasher()
        hasher.combine(database)
        hasher.combine(user)
        self.nameHash = hasher.finalize()
    }

    public var description: String { "\(database)/\(user)" }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(nameHash)
    }

    public static func == (lhs: PoolKey, rhs: PoolKey) -> Bool {
        lhs.nameHash == rhs.nameHash && lhs.database == rhs.database && lhs.user == rhs.user
    }
}

/// How a client has used servers so far: released promptly, new, or habitually idle inside transactions.
/// Waiters of a better standing are served first, so that a job leaking idle transactions cannot take the
/// servers clients with a clean record are waiting for.
public enum Standing: Int, Sendable, Comparable, CaseIterable {
    /// Has finished transactions and released its servers promptly.
    case proven = 0
    /// No history yet (a new connection).
    case new = 1
    /// Has kept servers idle inside transactions more often than not.
    case suspect = 2

    public static func < (lhs: Standing, rhs: Standing) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The standing earned by `prompt` transactions released without long idling and `slow` ones idle long.
    public init(prompt: Int, slow: Int) {
        if slow > prompt {
            self = .suspect
        } else if prompt > 0 {
            self = .proven
        } else {
            self = .new
        }
    }
}

/// Who is asking for a server: carried by every waiter so that policies (standing, fair share per
/// application, per-application caps) can choose among them.
public struct ClientTag: Hashable, Sendable {
    public var client: ClientID
    /// The event loop the client lives on; a server on the same loop is preferred.
    public var loop: Int
    /// `application_name`, or the client's address when it set none.
    public var application: String {
        didSet { applicationKey = application.hashValue }
    }
    /// The application's hash: telling whether waiters belong to one application or several is then an
    /// integer compare per waiter, on the path of every handoff.
    public private(set) var applicationKey: Int
    /// The client's record so far.
    public var standing: Standing
    /// The work it waits with opens a transaction (`BEGIN`, `START TRANSACTION`): while the pool's servers sit
    /// stalled in transactions up to max_idle_transaction_servers, such a waiter lets single statements go
    /// first and takes no server until a stalled holder is gone (see `PoolStateMachine.transactionGateClosed`).
    public var opensTransaction: Bool
    public init(
        client: ClientID, loop: Int, application: String, standing: Standing = .new, opensTransaction: Bool = false
    ) {
        self.client = client
        self.loop = loop
        self.application = application
        self.applicationKey = application.hashValue
        self.standing = standing
        self.opensTransaction = opensTransaction
    }
}
