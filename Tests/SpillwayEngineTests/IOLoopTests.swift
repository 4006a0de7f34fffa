import Synchronization
import Testing

@testable import SpillwayEngine

@Suite struct IOLoopTests {
    /// A task posted from another thread runs on the loop's own thread.
    @Test func executeRunsOnTheLoopThread() async throws {
        try await withGroup(loops: 2) { group in
            let ranOn = try await group.loops[1].run { group.loops[1].inLoop && !group.loops[0].inLoop }
            #expect(ranOn)
        }
    }

    /// Tasks posted from several threads all run, each once.
    @Test func postedTasksAllRunOnce() async throws {
        try await withGroup(loops: 2) { group in
            let count = 2_000
            let seen = try await group.loops[0].wait("every task", timeout: .seconds(10)) { (done: @escaping @Sendable (Int) -> Void) in
                let counter = Mutex(0)
                for _ in 0..<count {
                    // From the other loop's thread, so the queue and eventfd are crossed.
                    group.loops[1].execute {
                        group.loops[0].execute {
                            let total = counter.withLock { value in
                                value += 1
                                return value
                            }
                            if total == count { done(total) }
                        }
                    }
                }
            }
            #expect(seen == count)
        }
    }

    /// Timers fire in deadline order, a cancelled one never, and none before its deadline.
    @Test func timersFireInDeadlineOrderAndCancelledOnesDoNot() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let fired = try await loop.wait("the last timer") { (done: @escaping @Sendable ([Int]) -> Void) in
                let start = loop.now
                let record = Mutex<[Int]>([])
                func at(_ ms: Int, _ id: Int) -> TimerID {
                    loop.schedule(at: start + .milliseconds(ms)) {
                        precondition(loop.now >= start + .milliseconds(ms), "a timer fired early")
                        let all = record.withLock { order in
                            order.append(id)
                            return order
                        }
                        if id == 4 { done(all) }
                    }
                }
                _ = at(30, 3)
                _ = at(10, 1)
                let cancelled = at(20, 99)
                _ = at(20, 2)
                _ = at(40, 4)
                loop.cancel(cancelled)
            }
            #expect(fired == [1, 2, 3, 4])
        }
    }

    /// A task queued on the loop from inside the loop runs in the same iteration, before the flush, and tasks it
    /// queues run too.
    @Test func locallyQueuedTasksRunBeforeTheFlush() async throws {
        try await withGroup { group in
            let loop = group.loops[0]
            let steps = try await loop.wait("the queued tasks") { (done: @escaping @Sendable ([String]) -> Void) in
                let log = Mutex<[String]>([])
                loop.enqueue {
                    log.withLock { $0.append("first") }
                    loop.enqueue {
                        log.withLock { $0.append("second") }
                        done(log.withLock { $0 })
                    }
                }
            }
            #expect(steps == ["first", "second"])
        }
    }

    /// A stopped loop drops tasks posted after it stopped, and says so.
    @Test func executeAfterStopIsRefused() async throws {
        let group = try IOLoopGroup(loops: 1)
        group.shutdown()
        #expect(group.loops[0].execute {} == false)
    }

    /// The timer heap pops in order and skips cancelled entries.
    @Test func timerHeapOrdersAndSkipsCancelled() {
        var heap = TimerHeap()
        let base = ContinuousClock.now
        var fired: [Int] = []
        var ids: [TimerID] = []
        for (offset, value) in [(5, 5), (1, 1), (3, 3), (2, 2), (4, 4)] {
            ids.append(heap.schedule(at: base + .milliseconds(offset)) { fired.append(value) })
        }
        heap.cancel(ids[2])  // 3
        #expect(heap.earliest() == base + .milliseconds(1))
        while let callback = heap.popDue(now: base + .milliseconds(4)) { callback() }
        #expect(fired == [1, 2, 4])
        #expect(heap.count == 1)
        #expect(heap.popDue(now: base + .milliseconds(4)) == nil)
    }
}
