/// Clients waiting for a server of one pool, in arrival order.
///
/// A client waiting *is* an entry here: counts and `SHOW` rows are read from this queue, never kept beside it.
/// Who is served next is `popNext`'s choice: best standing first, then the application furthest below its
/// share, then arrival order (with a preference for the releasing server's event loop).
public struct WaitQueue: Sendable {
    /// One waiting client and when it started waiting.
    public struct Entry: Sendable, Equatable {
        public var tag: ClientTag
        public var since: ContinuousClock.Instant
    }

    /// How `popNext` weighs applications against each other; nil-returning `admits` keeps a waiter queued.
    public struct Policy {
        /// Servers an application holds relative to its weight (lower is served first).
        public var load: (String) -> Double
        /// False for a waiter that may not take a server now (its application is at its cap).
        public var admits: (ClientTag) -> Bool
        public init(load: @escaping (String) -> Double, admits: @escaping (ClientTag) -> Bool) {
            self.load = load
            self.admits = admits
        }
    }

    private var entries: [Entry] = []
    private var head = 0
    /// Waiters per standing, for knowing the best standing waiting without a scan.
    private var byStanding = [0, 0, 0]
    /// The application of the waiters since the queue was last empty, while they all share one: the check
    /// that lets a release skip fair sharing is then O(1) rather than a scan of the waiters.
    private var soleApplication: Int?
    private var severalApplications = false

    /// True when waiters of more than one application may be waiting (since the queue was last empty).
    public var mixesApplications: Bool { severalApplications }

    /// Waiters looked at when choosing by application: bounds the work under the pool's lock.
    static let scanLimit = 64

    /// How long a proven client may be served before a new one. Past it a new client ranks with the proven ones
    /// (and, being older, goes first): without the bound, a client that connects to a saturated pool waited as
    /// long as proven clients kept the queue busy — seconds under pgbench -c 500, until query_wait_timeout.
    /// Suspects (habitual idlers) get no such bound: they wait while anyone better waits.
    public static let newcomerGrace = Duration.milliseconds(100)

    /// The rank a waiter is served by (0 first): its standing, except that a new client waiting longer than
    /// `newcomerGrace` ranks with proven ones. Without `now`, the standing alone.
    @inline(__always)
    private func rank(_ entry: Entry, now: ContinuousClock.Instant?) -> Int {
        let standing = entry.tag.standing.rawValue
        if standing == Standing.new.rawValue, let now, now - entry.since >= Self.newcomerGrace { return 0 }
        return standing
    }

    /// The best rank among the waiters: from the counts per standing, and when no proven client waits, whether
    /// the oldest new one has waited `newcomerGrace` (new clients wait in arrival order, so the oldest is the
    /// first found from the head).
    private func bestRank(now: ContinuousClock.Instant?) -> Int {
        let best = byStanding.firstIndex { $0 > 0 } ?? 0
        guard best == Standing.new.rawValue, let now else { return best }
        var index = head
        let end = min(entries.count, head + Self.scanLimit)
        while index < end {
            if entries[index].tag.standing == .new { return rank(entries[index], now: now) }
            index += 1
        }
        return best
    }

    public init() {}

    public var count: Int { entries.count - head }
    public var isEmpty: Bool { head == entries.count }
    /// The waiters, in arrival order.
    public var waiting: ArraySlice<Entry> { entries[head...] }

    public mutating func append(_ tag: ClientTag, since: ContinuousClock.Instant) {
        entries.append(Entry(tag: tag, since: since))
        byStanding[tag.standing.rawValue] += 1
        if head + 1 == entries.count {
            soleApplication = tag.applicationKey
            severalApplications = false
        } else if soleApplication != tag.applicationKey {
            severalApplications = true
        }
    }

    /// Removes and returns the oldest waiter.
    public mutating func popFirst() -> Entry? {
        guard head < entries.count else { return nil }
        let entry = entries[head]
        head += 1
        byStanding[entry.tag.standing.rawValue] -= 1
        compactIfSparse()
        return entry
    }

    /// Removes and returns the waiter to serve next with a server on `loop`:
    /// 1. only waiters of the best rank present (proven, then new, then suspect; a new client that waited
    ///    `newcomerGrace` ranks as proven — pass `now` for that);
    /// 2. with a `policy` and several applications among them, the application with the lowest load;
    /// 3. the oldest of those, or one on `loop` that started waiting no later than `window` after it.
    /// Nil when nobody waits or the policy admits nobody.
    public mutating func popNext(
        preferring loop: Int, within window: Duration, policy: Policy? = nil, now: ContinuousClock.Instant? = nil
    ) -> Entry? {
        guard head < entries.count else { return nil }
        let best = bestRank(now: now)
        // The common case: the oldest waiter has the best rank and no policy applies.
        if policy == nil, rank(entries[head], now: now) == best {
            return take(at: affinityIndex(from: head, loop: loop, window: window, rank: best, now: now))
        }
        var candidates: [Int] = []
        var index = head
        while index < entries.count, candidates.count < Self.scanLimit {
            let tag = entries[index].tag
            if rank(entries[index], now: now) == best, policy?.admits(tag) ?? true { candidates.append(index) }
            index += 1
        }
        if candidates.isEmpty, let policy {
            // Nobody of the best standing may take it: the next standing down gets a chance.
            index = head
            while index < entries.count, candidates.count < Self.scanLimit {
                if policy.admits(entries[index].tag) { candidates.append(index) }
                index += 1
            }
        }
        guard let first = candidates.first else { return nil }
        guard let policy else {
            return take(at: affinityIndex(from: first, loop: loop, window: window, rank: best, now: now))
        }
        var loads: [String: Double] = [:]
        var chosen = first
        var chosenLoad = Double.infinity
        for candidate in candidates {
            let application = entries[candidate].tag.application
            let load: Double
            if let known = loads[application] {
                load = known
            } else {
                load = policy.load(application)
                loads[application] = load
            }
            if load < chosenLoad {
                chosen = candidate
                chosenLoad = load
            }
        }
        return take(at: chosen)
    }

    /// With several event loops and no application policy, the waiter a server released on `loop` goes to:
    /// 1. of the best standing waiting, one on `loop` that came no later than `window` after the oldest;
    /// 2. else the oldest, when someone on `loop` waits further back (fairness: `window` bounds how long a
    ///    client is passed over) or when the oldest has already waited `window`;
    /// 3. else nobody: nobody on `loop` waits and the oldest waited less than `window`, so a server of its own
    ///    loop will likely serve it sooner than a handover across threads is worth.
    public mutating func popOnLoop(_ loop: Int, within window: Duration, now: ContinuousClock.Instant) -> Entry? {
        guard head < entries.count else { return nil }
        let best = bestRank(now: now)
        var first = head
        while first < entries.count, rank(entries[first], now: now) != best { first += 1 }
        guard first < entries.count else { return nil }
        let oldest = entries[first]
        if oldest.tag.loop == loop { return take(at: first) }
        var index = first + 1
        let end = min(entries.count, first + Self.scanLimit)
        var waitsOnLoop = false
        while index < end {
            let entry = entries[index]
            if entry.tag.loop == loop {
                if entry.since - oldest.since > window {
                    waitsOnLoop = true
                    break
                }
                if rank(entry, now: now) == best { return take(at: index) }
            }
            index += 1
        }
        if waitsOnLoop || now - oldest.since >= window { return take(at: first) }
        return nil
    }

    /// Removes and returns every waiter that started waiting at or before `instant`, oldest first.
    public mutating func removeAll(waitingSince instant: ContinuousClock.Instant) -> [Entry] {
        var removed: [Entry] = []
        var kept: [Entry] = []
        for entry in entries[head...] {
            if entry.since <= instant { removed.append(entry) } else { kept.append(entry) }
        }
        guard !removed.isEmpty else { return [] }
        entries = kept
        head = 0
        for entry in removed { byStanding[entry.tag.standing.rawValue] -= 1 }
        return removed
    }

    /// Removes the waiter for `client`; false when it was not waiting.
    @discardableResult
    public mutating func remove(_ client: ClientID) -> Bool {
        guard let index = entries[head...].firstIndex(where: { $0.tag.client == client }) else { return false }
        _ = take(at: index)
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
        byStanding = [0, 0, 0]
        return all
    }

    /// From `start`, the first waiter of `rank` on `loop` within `window` of `start`'s arrival, else `start`.
    private func affinityIndex(from start: Int, loop: Int, window: Duration, rank wanted: Int,
                               now: ContinuousClock.Instant?) -> Int {
        let oldest = entries[start]
        guard oldest.tag.loop != loop, window > .zero else { return start }
        var index = start + 1
        while index < entries.count, entries[index].since - oldest.since <= window {
            if entries[index].tag.loop == loop, rank(entries[index], now: now) == wanted { return index }
            index += 1
        }
        return start
    }

    private mutating func take(at index: Int) -> Entry {
        if index == head { return popFirst()! }
        let entry = entries.remove(at: index)
        byStanding[entry.tag.standing.rawValue] -= 1
        return entry
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
