import SpillwayCore

/// One row of `spillway check`: a host's budget, the worst case Spillway could open there and what that
/// leaves, judged safe, unsafe or unverifiable.
public struct CheckHostReport: Sendable, Equatable {
    /// How a host came out.
    public enum Status: Sendable, Equatable {
        /// The worst case of every instance fits beside the other backends.
        case safe
        /// The worst case would take `over` slots more than the server has for ordinary roles.
        case unsafe(over: Int)
        /// Nothing was measured: the host could not be reached, logged in to or read.
        case cannotVerify(String)
    }

    /// Where the server's budget comes from.
    public enum BudgetSource: String, Sendable, Equatable {
        /// `server_connection_budget` in the file.
        case explicit
        /// Read from the server: usable slots minus budget_headroom, split among the instances.
        case auto
    }

    /// The host and its databases.
    public var host: CheckHost
    /// What the configuration asks for there, per instance.
    public var worstCase: CheckWorstCase
    /// What the server said.
    public var measurement: CheckMeasurement
    /// `server_connection_budget`; nil reads the budget from the server.
    public var explicitBudget: Int?
    /// Spillway processes in front of the server (`instances`, or `--instances`).
    public var instances: Int

    public init(
        host: CheckHost, worstCase: CheckWorstCase, measurement: CheckMeasurement, explicitBudget: Int?,
        instances: Int
    ) {
        self.host = host
        self.worstCase = worstCase
        self.measurement = measurement
        self.explicitBudget = explicitBudget
        self.instances = instances
    }

    /// The server's numbers, when it answered.
    public var serverBudget: ServerBudget? {
        guard case .measured(let budget, _) = measurement else { return nil }
        return budget
    }

    /// Client backends other than the check's own connection: Spillway's servers cannot be told apart from
    /// anyone else's, so all of them count as other.
    public var otherBackends: Int? {
        guard case .measured(_, let backends) = measurement else { return nil }
        return max(backends - 1, 0)
    }

    /// Servers one instance may open to the host: the explicit budget, else the server's auto budget.
    public var budget: Int? { explicitBudget ?? serverBudget?.limit }

    /// Where `budget` comes from.
    public var budgetSource: BudgetSource { explicitBudget == nil ? .auto : .explicit }

    /// The worst case one instance really reaches: configured, held to the budget.
    public var heldWorstCase: Int? { budget.map(worstCase.held(to:)) }

    /// Slots left when every instance is at its worst case: usable slots − other backends − held × instances.
    public var headroom: Int? {
        guard let serverBudget, let otherBackends, let heldWorstCase else { return nil }
        return serverBudget.usableSlots - otherBackends - heldWorstCase * instances
    }

    /// Safe when the headroom is not negative.
    public var status: Status {
        if case .failed(let reason) = measurement { return .cannotVerify(reason) }
        guard let headroom else { return .cannotVerify("the server's answer could not be read") }
        return headroom < 0 ? .unsafe(over: -headroom) : .safe
    }
}
