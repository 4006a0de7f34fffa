/// How many server connections one Spillway may open to one PostgreSQL host: what the server has, minus what
/// it keeps for superusers and reserved roles, minus headroom for everyone else, split among the Spillway
/// instances in front of it.
public struct ServerBudget: Sendable, Equatable {
    /// The server's `max_connections`.
    public var maxConnections: Int
    /// `superuser_reserved_connections`.
    public var superuserReserved: Int
    /// `reserved_connections` (PostgreSQL 16+; 0 before).
    public var reserved: Int
    /// `budget_headroom`: slots left for other clients (migrations, cron, humans).
    public var headroom: Int
    /// `instances`: Spillway processes sharing the server.
    public var instances: Int

    public init(maxConnections: Int, superuserReserved: Int, reserved: Int, headroom: Int, instances: Int) {
        self.maxConnections = maxConnections
        self.superuserReserved = superuserReserved
        self.reserved = reserved
        self.headroom = headroom
        self.instances = instances
    }

    /// Servers this instance may open to the host (at least 1, so that a tiny server is still usable).
    public var limit: Int {
        max((maxConnections - superuserReserved - reserved - headroom) / max(instances, 1), 1)
    }

    /// Slots ordinary roles can use on the server at all.
    public var usableSlots: Int { maxConnections - superuserReserved - reserved }

    /// The query that reads the server's side of the budget: max_connections, superuser_reserved_connections,
    /// reserved_connections (missing before PostgreSQL 16), and the client backends open now.
    public static let query = """
        select current_setting('max_connections'), current_setting('superuser_reserved_connections'), \
        coalesce(current_setting('reserved_connections', true), '0'), \
        (select count(*) from pg_stat_activity where backend_type = 'client backend')
        """

    /// Parses the row of `query`: (budget, client backends open); nil when the row is not numbers.
    public static func parse(
        _ row: [String?], headroom: Int, instances: Int
    ) -> (budget: ServerBudget, backends: Int)? {
        guard row.count == 4, let max = row[0].flatMap(Int.init), let superuser = row[1].flatMap(Int.init),
              let reserved = row[2].flatMap(Int.init), let backends = row[3].flatMap(Int.init)
        else { return nil }
        return (ServerBudget(
            maxConnections: max, superuserReserved: superuser, reserved: reserved, headroom: headroom,
            instances: instances), backends)
    }
}
