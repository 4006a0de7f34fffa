/// The on-call engineer's login attempts that count (after the warm-up): how many, how many got in, the first error.
public struct ProbeStats: Sendable, Equatable, Codable {
    /// Attempts after the warm-up.
    public private(set) var attempts = 0
    /// Of those, the ones that logged in and ran their query.
    public private(set) var successes = 0
    /// The first failed attempt's text.
    public private(set) var firstError: String?

    public init() {}

    /// A counted attempt logged in.
    public mutating func recordSuccess() {
        attempts += 1
        successes += 1
    }

    /// A counted attempt failed with `error`.
    public mutating func recordFailure(_ error: String) {
        attempts += 1
        if firstError == nil {
            firstError = error
        }
    }

    /// True when at least one counted attempt logged in.
    public var anySucceeded: Bool { successes > 0 }

    /// True when every counted attempt logged in (and there was one).
    public var allSucceeded: Bool { attempts > 0 && successes == attempts }
}
