/// Clients waiting for a server of one pool, oldest first.
///
/// A client waiting *is* an entry here: counts and `SHOW` rows are read from this queue, never kept beside it.
public struct WaitQueue: Sendable {
    /// One waiting client and when it started waiting.
    public struct Entry: Sendable, Equatable {
        public var tag: ClientTag
        public var since: ContinuousClock.Instant
    }

    private var entries: [Entry] = []
    private var head = 0

    public init() {}

    public var count: Int { entries.count - head }
    public var isEmpty: Bool { head == entries.count }

    /// The waiters, oldest first.
    public var waiting: ArraySlice<Entry> { entries[head...] }

    public mutating func append(_ tag: ClientTag, since: ContinuousClock.Instant) {
        entries.append(Entry(tag: tag, since: since))
    }

    /// Removes and returns the oldest waiter.
    public mutating func popFirst() -> Entry? {
        guard head < entries.count else { return nil }
        let entry = entries[head]
        head += 1
        compactIfSparse()
        return entry
    }

    /// Removes the waiter for `client`; false when it was not waiting.
    @discardableResult
    public mutating func remove(_ client: ClientID) -> Bool {
        guard let index = entries[head...].firstIndex(where: { $0.tag.client == client }) else { return false }
        entries.remove(at: index)
        return true
    }

    public func contains(_ client: ClientID) -> Bool {
        entries[head...].contains { $0.tag.client == client }
    }

    /// Removes every waiter, oldest first.
    public mutating func removeAll() -> [Entry] {
        let all = Array(entries[head...])
        entries.removeAll(keepingCapacity: true)
        head = 0
        return all
    }

    private mutating func compactIfSparse() {
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
