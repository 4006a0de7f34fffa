import SpillwayCore
import Testing

@testable import SpillwayTools

@Suite struct CheckDisabledBoundTests {
    /// The defaults turn nothing off.
    @Test func defaultsDisableNothing() throws {
        let config = try CheckWorstCaseTests.config("[databases]\norders = host=db\n")
        #expect(CheckDisabledBound.all(in: config, users: ["app"]).isEmpty)
    }

    /// Every default-on bound set to 0 or off is listed once, alphabetically, with what it exposes.
    @Test func listsEveryBoundTurnedOff() throws {
        let config = try CheckWorstCaseTests.config("""
            [databases]
            orders = host=db
            [pgbouncer]
            query_wait_timeout = 0
            idle_transaction_timeout = 0
            client_login_timeout = 0
            server_connect_timeout = 0
            server_idle_timeout = 0
            server_lifetime = 0
            cancel_wait_timeout = 0
            leak_warn_after = 0
            tcp_keepalive = 0
            tcp_user_timeout = 0
            reserve_pool_size = 0
            """)
        let bounds = CheckDisabledBound.all(in: config, users: [])
        #expect(bounds.map(\.setting) == [
            "cancel_wait_timeout", "client_login_timeout", "idle_transaction_timeout", "leak_warn_after",
            "query_wait_timeout", "reserve_pool_size", "server_connect_timeout", "server_idle_timeout",
            "server_lifetime", "tcp_keepalive", "tcp_user_timeout",
        ])
        #expect(bounds.first { $0.setting == "tcp_keepalive" }?.value == "off")
        #expect(bounds.allSatisfy { !$0.exposes.isEmpty })
        #expect(bounds[2].line.hasPrefix("- idle_transaction_timeout = 0: "))
    }

    /// max_idle_transaction_servers at or above a pool's size disables reclaim there: those pools are named.
    @Test func namesPoolsThatMaxIdleTransactionServersNoLongerReclaims() throws {
        let config = try CheckWorstCaseTests.config("""
            [databases]
            orders = host=db pool_size=10
            billing = host=db pool_size=40
            [users]
            batch = pool_size=5
            [pgbouncer]
            max_idle_transaction_servers = 10
            """)
        let bounds = CheckDisabledBound.all(in: config, users: ["app", "batch"])
        #expect(bounds.map(\.setting) == ["max_idle_transaction_servers"])
        #expect(bounds.first?.exposes.hasPrefix("not below the pool size of billing/batch (5), orders (10):") == true)

        let auto = try CheckWorstCaseTests.config(
            "[databases]\norders = host=db\n[pgbouncer]\nmax_idle_transaction_servers = 19\n")
        #expect(CheckDisabledBound.all(in: auto, users: []).isEmpty)
    }
}
