/// The leaky job in one run: sessions it left open idle in transaction, and steps that failed.
public struct JobStats: Sendable, Equatable, Codable {
    /// Sessions that ran BEGIN, SELECT and UPDATE and were left open.
    public private(set) var leaked = 0
    /// Items whose connect or statements failed (expected through Spillway: the leak guard refuses or ends them).
    public private(set) var failures = 0
    /// Items skipped because the drill already held `maxLeaked` sessions.
    public private(set) var skipped = 0
    /// The first failure's text.
    public private(set) var firstError: String?

    public init() {}

    /// An item left its session open.
    public mutating func recordLeak() {
        leaked += 1
    }

    /// An item failed with `error`.
    public mutating func recordFailure(_ error: String) {
        failures += 1
        if firstError == nil {
            firstError = error
        }
    }

    /// An item was skipped at the cap.
    public mutating func recordSkip() {
        skipped += 1
    }
}
