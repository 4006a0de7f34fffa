/// A loop's timers: a binary min-heap of deadlines, cancelled lazily.
///
/// Each timer has an ID; cancelling removes its callback, and the heap entry is dropped when it reaches the top.
/// Loop-confined: no locks.
struct TimerHeap {
    /// One scheduled deadline.
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var id: TimerID
    }

    private var heap: [Entry] = []
    private var callbacks: [TimerID: () -> Void] = [:]
    private var nextID: UInt64 = 1

    /// How many timers are scheduled and not cancelled.
    var count: Int { self.callbacks.count }

    /// Schedules `callback` at `deadline`.
    mutating func schedule(at deadline: ContinuousClock.Instant, _ callback: @escaping () -> Void) -> TimerID {
        let id = TimerID(rawValue: self.nextID)
        self.nextID &+= 1
        self.callbacks[id] = callback
        self.heap.append(Entry(deadline: deadline, id: id))
        self.siftUp(self.heap.count - 1)
        return id
    }

    /// Cancels a timer; a no-op when it already fired or was cancelled.
    mutating func cancel(_ id: TimerID) {
        self.callbacks[id] = nil
        if self.callbacks.isEmpty {
            self.heap.removeAll(keepingCapacity: true)
        }
    }

    /// The earliest live deadline, dropping cancelled entries on top.
    mutating func earliest() -> ContinuousClock.Instant? {
        while let top = self.heap.first {
            if self.callbacks[top.id] != nil {
                return top.deadline
            }
            self.popTop()
        }
        return nil
    }

    /// Removes and returns the callback of the earliest timer due at `now`, or nil when none is due.
    mutating func popDue(now: ContinuousClock.Instant) -> (() -> Void)? {
        while let top = self.heap.first, top.deadline <= now {
            self.popTop()
            if let callback = self.callbacks.removeValue(forKey: top.id) {
                return callback
            }
        }
        return nil
    }

    private mutating func popTop() {
        let last = self.heap.removeLast()
        guard !self.heap.isEmpty else { return }
        self.heap[0] = last
        self.siftDown(0)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.heap[child].deadline < self.heap[parent].deadline else { return }
            self.heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < self.heap.count else { return }
            var smallest = left
            let right = left + 1
            if right < self.heap.count, self.heap[right].deadline < self.heap[left].deadline {
                smallest = right
            }
            guard self.heap[smallest].deadline < self.heap[parent].deadline else { return }
            self.heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}

/// Names one scheduled timer of one loop, for cancelling it.
public struct TimerID: Hashable, Sendable {
    let rawValue: UInt64
}
