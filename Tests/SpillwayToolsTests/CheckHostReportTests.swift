import SpillwayCore
import Testing

@testable import SpillwayTools

@Suite struct CheckHostReportTests {
    /// A row for host `db:5432` with `configured` servers, as the server at max_connections 100 answered.
    static func row(
        configured: Int, explicitBudget: Int? = nil, instances: Int = 1, maxConnections: Int = 100,
        superuserReserved: Int = 3, reserved: Int = 0, headroom: Int = 5, backends: Int = 1
    ) -> CheckHostReport {
        let budget = ServerBudget(
            maxConnections: maxConnections, superuserReserved: superuserReserved, reserved: reserved,
            headroom: headroom, instances: instances)
        return CheckHostReport(
            host: CheckHost(address: "db:5432", databases: [DatabaseConfig(name: "orders", host: "db")]),
            worstCase: CheckWorstCase(configured: configured, perDatabase: ["orders": configured]),
            measurement: .measured(budget, clientBackends: backends), explicitBudget: explicitBudget,
            instances: instances)
    }

    /// Auto budget: usable slots minus budget_headroom; a modest worst case leaves headroom and is safe.
    @Test func autoBudgetWithModestPoolsIsSafe() {
        let row = Self.row(configured: 15, backends: 3)
        #expect(row.budget == 92)
        #expect(row.budgetSource == .auto)
        #expect(row.otherBackends == 2, "the check's own connection is not another backend")
        #expect(row.headroom == 97 - 2 - 15)
        #expect(row.status == .safe)
    }

    /// Auto budget holds a big configuration to the budget, so only other backends beyond budget_headroom
    /// can make it unsafe.
    @Test func autoBudgetHoldsTheWorstCase() {
        let quiet = Self.row(configured: 400, backends: 4)
        #expect(quiet.heldWorstCase == 92)
        #expect(quiet.headroom == 97 - 3 - 92)
        #expect(quiet.status == .safe)
        let busy = Self.row(configured: 400, backends: 9)
        #expect(busy.headroom == -3)
        #expect(busy.status == .unsafe(over: 3))
    }

    /// An explicit budget above what the server has does not protect it: 205 servers on 97 slots is unsafe.
    @Test func explicitBudgetAboveTheServerIsUnsafe() {
        let row = Self.row(configured: 205, explicitBudget: 1000)
        #expect(row.budget == 1000)
        #expect(row.budgetSource == .explicit)
        #expect(row.heldWorstCase == 205)
        #expect(row.headroom == 97 - 0 - 205)
        #expect(row.status == .unsafe(over: 108))
    }

    /// Every instance may reach the worst case: it counts once per instance.
    @Test func worstCaseCountsOncePerInstance() {
        let row = Self.row(configured: 40, explicitBudget: 40, instances: 3, reserved: 2)
        #expect(row.headroom == 100 - 3 - 2 - 120)
        #expect(row.status == .unsafe(over: 25))
        let auto = Self.row(configured: 40, instances: 3, reserved: 2)
        #expect(auto.budget == (95 - 5) / 3)
        #expect(auto.status == .safe)
    }

    /// A host that did not answer cannot be verified; an explicit budget is still shown.
    @Test func unreachableHostCannotBeVerified() {
        var row = Self.row(configured: 10, explicitBudget: 50)
        row.measurement = .failed("could not connect: Connection refused")
        #expect(row.status == .cannotVerify("could not connect: Connection refused"))
        #expect(row.budget == 50)
        #expect(row.headroom == nil)
        row.explicitBudget = nil
        #expect(row.budget == nil)
    }
}
