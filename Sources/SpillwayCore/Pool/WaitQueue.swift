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

    /// Removes and returns the oldest waiter on `loop` among those that started waiting no later than
    /// `window` after the oldest; else the oldest.
    public mutating func popFirst(preferring loop: Int, within window: Duration) -> Entry? {
        guard head < entries.count else { return nil }
        let oldest = entries[head]
        if oldest.tag.loop == loop || window <= .zero { return popFirst() }
        var index = head + 1
        while index < entries.count, entries[index].since - oldest.since <= window {
            if entries[index].tag.loop == loop { return entries.remove(at: index) }
            index += 1
        }
        return popFirst()
    }

    /// Removes and returns every waiter that started waiting at or before `instant`, oldest first.
    public mutating func removeAll(waitingSince instant: ContinuousClock.Instant) -> [Entry] {
        var removed: [Entry] = []
        while head < entries.count, entries[head].since <= instant {
            removed.append(entries[head])
            head += 1
        }
        // Later entries can be older only through requeueing at the front; sweep them too.
        let late = entries[head...].filter { $0.since <= instant }
        if !late.isEmpty {
            removed += late
            entries = Array(entries[head...].filter { $0.since > instant })
            head = 0
        }
        compactIfSparse()
        return removed
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
