/// Client connections per application, and the admission rules that use them: per-application
/// `max_client_connections`, and near `max_client_conn` the application holding the most connections is
/// refused first while the others still get in.
public struct ApplicationBook: Sendable, Equatable {
    /// Client connections per application (admin console clients are not counted).
    public private(set) var clients: [String: Int] = [:]
    /// Suspected leaks seen per application since start.
    public private(set) var leaksSeen: [String: Int] = [:]

    /// Share of max_client_conn past which the top application is refused.
    public static let crowdedShare = 0.8

    public init() {}

    /// Why a new client of an application is refused.
    public enum Refusal: Sendable, Equatable {
        case applicationLimit(application: String, limit: Int)
        case crowded(application: String, holding: Int, total: Int, limit: Int)

        /// The 53300 message.
        public var message: String {
            switch self {
            case .applicationLimit(let application, let limit):
                "too many connections for application \"\(application)\" (max_client_connections \(limit))"
            case .crowded(let application, let holding, let total, let limit):
                "too many connections: application \"\(application)\" holds the most client connections (\(holding)) "
                    + "and Spillway has \(total) of max_client_conn \(limit)"
            }
        }
    }

    /// Decides whether a new client of `application` may log in, given `total` client connections open
    /// (this one included) out of `limit` (max_client_conn) and the application's own cap. Counts it when
    /// admitted.
    public mutating func admit(
        _ application: String, total: Int, limit: Int, applicationLimit: Int?
    ) -> Refusal? {
        let holding = clients[application] ?? 0
        if let applicationLimit, holding >= applicationLimit {
            return .applicationLimit(application: application, limit: applicationLimit)
        }
        // Near exhaustion the application holding the most is refused first, so that others still get in;
        // with no other application present there is nobody to protect and max_client_conn is the only limit.
        if Double(total) > Double(limit) * Self.crowdedShare, holding > 0,
           clients.keys.contains(where: { $0 != application }),
           let top = clients.values.max(), holding >= top
        {
            return .crowded(application: application, holding: holding, total: total, limit: limit)
        }
        clients[application] = holding + 1
        return nil
    }

    /// A counted client closed.
    public mutating func left(_ application: String) {
        guard let holding = clients[application] else { return }
        clients[application] = holding > 1 ? holding - 1 : nil
    }

    /// A counted client changed its application_name.
    public mutating func moved(from old: String, to new: String) {
        guard old != new else { return }
        left(old)
        clients[new, default: 0] += 1
    }

    public mutating func leakSeen(_ application: String) {
        leaksSeen[application, default: 0] += 1
    }
}
