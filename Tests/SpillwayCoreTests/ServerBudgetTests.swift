import SpillwayCore
import Testing

/// server_connection_budget = auto: what one Spillway may open to a host, from what the host says.
@Suite struct ServerBudgetTests {
    /// The incident's server: 85 slots, 3 for superusers, 5 of headroom, one instance: 77.
    @Test func incidentServer() {
        let budget = ServerBudget(maxConnections: 85, superuserReserved: 3, reserved: 0, headroom: 5, instances: 1)
        #expect(budget.limit == 77)
        #expect(budget.usableSlots == 82)
    }

    /// Instances split what is left after the reserved slots and the headroom; reserved_connections (16+) counts.
    @Test func instancesAndReservedConnectionsShareTheRest() {
        let budget = ServerBudget(maxConnections: 100, superuserReserved: 3, reserved: 2, headroom: 5, instances: 3)
        #expect(budget.limit == 30)  // (100 - 3 - 2 - 5) / 3
    }

    /// A server too small for its reservations still gets one connection, so it stays usable.
    @Test func tinyServerKeepsOneConnection() {
        let budget = ServerBudget(maxConnections: 5, superuserReserved: 3, reserved: 0, headroom: 5, instances: 2)
        #expect(budget.limit == 1)
    }

    /// The row of `ServerBudget.query` parses; anything else is refused rather than guessed.
    @Test func parsesTheServersAnswer() throws {
        let parsed = try #require(ServerBudget.parse(["20", "3", "0", "7"], headroom: 5, instances: 1))
        #expect(parsed.budget.limit == 12)
        #expect(parsed.backends == 7)
        #expect(ServerBudget.parse(["20", "3", nil, "7"], headroom: 5, instances: 1) == nil)
        #expect(ServerBudget.parse(["twenty", "3", "0", "7"], headroom: 5, instances: 1) == nil)
        #expect(ServerBudget.parse(["20", "3", "0"], headroom: 5, instances: 1) == nil)
    }
}
