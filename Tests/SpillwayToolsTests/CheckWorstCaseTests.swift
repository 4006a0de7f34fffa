import SpillwayCore
import Testing

@testable import SpillwayTools

@Suite struct CheckWorstCaseTests {
    /// A config from INI text, for the tests below.
    static func config(_ text: String) throws -> Config {
        try Config.parse(text, file: "test.ini")
    }

    /// Databases are grouped by server address as the pooler keys budgets; `*` is left out; sockets get a path.
    @Test func groupsDatabasesByServerAddress() throws {
        let config = try Self.config("""
            [databases]
            orders = host=10.0.0.5 port=5432
            billing = host=10.0.0.5 port=5432 dbname=billing_prod
            reports = host=10.0.0.6
            local = host=/var/run/postgresql port=5433
            default = port=6000
            * = host=10.0.0.9
            """)
        let hosts = CheckHost.group(config)
        #expect(hosts.map(\.address) == [
            "/var/run/postgresql/.s.PGSQL.5433", "10.0.0.5:5432", "10.0.0.6:5432", "127.0.0.1:6000",
        ])
        #expect(hosts[1].databases.map(\.name) == ["billing", "orders"])
        #expect(hosts[1].first?.name == "billing")
        #expect(hosts[0].isUnixSocket)
        #expect(!hosts[1].isUnixSocket)
    }

    /// Pool size plus reserve per user who may log in; a forced user= is one pool whatever the users.
    @Test func multipliesByUsersUnlessTheUserIsForced() throws {
        let config = try Self.config("""
            [databases]
            orders = host=db
            shared = host=db user=app
            [pgbouncer]
            default_pool_size = 20
            reserve_pool_size = 5
            """)
        let host = try #require(CheckHost.group(config).first)
        let worst = CheckWorstCase(host: host, config: config, users: ["alice", "bob", "carol"])
        #expect(worst.perDatabase == ["orders": 75, "shared": 25])
        #expect(worst.configured == 100)
    }

    /// With nobody known to log in, a database still has one pool.
    @Test func countsOnePoolWhenNoUserIsKnown() throws {
        let config = try Self.config("[databases]\norders = host=db pool_size=10 reserve_pool=2\n")
        let host = try #require(CheckHost.group(config).first)
        #expect(CheckWorstCase(host: host, config: config, users: []).configured == 12)
    }

    /// A user's own pool_size counts for that user's pool; max_db_connections caps the database's total.
    @Test func appliesUserPoolSizesAndMaxDBConnections() throws {
        let config = try Self.config("""
            [databases]
            orders = host=db max_db_connections=30
            billing = host=db
            [users]
            batch = pool_size=2
            [pgbouncer]
            default_pool_size = 20
            reserve_pool_size = 0
            """)
        let host = try #require(CheckHost.group(config).first)
        let worst = CheckWorstCase(host: host, config: config, users: ["app", "batch"])
        #expect(worst.perDatabase == ["billing": 22, "orders": 22])
        let capped = CheckWorstCase(host: host, config: config, users: ["app", "other", "batch"])
        #expect(capped.perDatabase == ["billing": 42, "orders": 30])
        #expect(capped.configured == 72)
    }

    /// The pooler never opens more than the budget, so the worst case it reaches is held to it.
    @Test func isHeldToTheBudget() {
        let worst = CheckWorstCase(configured: 400, perDatabase: ["orders": 400])
        #expect(worst.held(to: 80) == 80)
        #expect(worst.held(to: 1000) == 400)
    }
}
