/// How a client has been releasing its servers: transactions finished promptly versus ones that sat idle
/// inside for long stretches. Decides the client's `Standing` among waiters.
public struct ReleaseRecord: Sendable, Equatable {
    public private(set) var prompt: UInt16 = 0
    public private(set) var slow: UInt16 = 0
    /// The longest idle stretch inside the current transaction, in nanoseconds.
    public private(set) var longestIdle: UInt64 = 0

    public init() {}

    public var standing: Standing { Standing(prompt: Int(prompt), slow: Int(slow)) }

    /// A request started at `now`; `idleSince`: when the client went idle inside its transaction, nil when it
    /// was not in one. An idle-in-transaction stretch ends.
    @inline(__always)
    public mutating func requestStarted(idleInTransactionSince idleSince: UInt64?, at now: UInt64) {
        guard let since = idleSince, now > since else { return }
        longestIdle = max(longestIdle, now - since)
    }

    /// The transaction ended: it counts as slow when it sat idle inside for `slowAfter` nanoseconds at once.
    public mutating func transactionEnded(slowAfter: UInt64) {
        if longestIdle >= slowAfter {
            slow = slow == .max ? slow : slow + 1
        } else {
            prompt = prompt == .max ? prompt : prompt + 1
        }
        longestIdle = 0
    }
}
