import SpillwayCore

/// What one host said when `spillway check` asked it for its side of the budget.
public enum CheckMeasurement: Sendable, Equatable {
    /// The server's slots (headroom and instances as configured) and the client backends open at the time,
    /// the check's own connection included.
    case measured(ServerBudget, clientBackends: Int)
    /// The host could not be reached, logged in to or read; the text says why.
    case failed(String)
}
