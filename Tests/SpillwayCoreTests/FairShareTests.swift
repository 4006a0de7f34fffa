import Testing

@testable import SpillwayCore


@Suite struct FairShareTests {
    let t0 = ContinuousClock.now

    // MARK: WaitQueue.popNext

    /// Proven clients are served before new ones, new before suspect, whatever the arrival order.
    @Test func popNextServesBestStandingFirst() {
        var queue = WaitQueue()
        queue.append(tag(1, standing: .suspect), since: t0)
        queue.append(tag(2, standing: .new), since: t0 + .seconds(1))
        queue.append(tag(3, standing: .proven), since: t0 + .seconds(2))
        queue.append(tag(4, standing: .new), since: t0 + .seconds(3))
        queue.append(tag(5, standing: .proven), since: t0 + .seconds(4))

        var served: [ClientID] = []
        while let entry = queue.popNext(preferring: 0, within: .zero) { served.append(entry.tag.client) }
        #expect(served == [c(3), c(5), c(2), c(4), c(1)])
        #expect(queue.isEmpty)
        #expect(queue.count == 0)
    }

    /// Standing as earned: more slow than prompt releases is suspect, any prompt record otherwise is proven.
    @Test func standingFromRecord() {
        #expect(Standing(prompt: 0, slow: 0) == .new)
        #expect(Standing(prompt: 1, slow: 0) == .proven)
        #expect(Standing(prompt: 3, slow: 3) == .proven)
        #expect(Standing(prompt: 0, slow: 1) == .suspect)
        #expect(Standing(prompt: 2, slow: 3) == .suspect)
        #expect(Standing.proven < .new && Standing.new < .suspect)
    }

    /// With a policy, the waiter of the application with the lowest load is served, not the oldest; within
    /// an application, the oldest.
    @Test func popNextWithPolicyServesLeastLoadedApplication() {
        var queue = WaitQueue()
        queue.append(tag(1, app: "batch"), since: t0)
        queue.append(tag(2, app: "web"), since: t0 + .seconds(1))
        queue.append(tag(3, app: "web"), since: t0 + .seconds(2))
        let loads = ["batch": 3.0, "web": 1.0]
        let policy = WaitQueue.Policy(load: { loads[$0] ?? 0 }, admits: { _ in true })

        #expect(queue.popNext(preferring: 0, within: .zero, policy: policy)?.tag.client == c(2))
        #expect(queue.popNext(preferring: 0, within: .zero, policy: policy)?.tag.client == c(3))
        #expect(queue.popNext(preferring: 0, within: .zero, policy: policy)?.tag.client == c(1))
        #expect(queue.popNext(preferring: 0, within: .zero, policy: policy) == nil)
    }

    /// Standing still comes before load: a proven client of a busy application goes before a new client of an
    /// idle one.
    @Test func popNextWithPolicyKeepsStandingFirst() {
        var queue = WaitQueue()
        queue.append(tag(1, app: "web", standing: .new), since: t0)
        queue.append(tag(2, app: "batch", standing: .proven), since: t0 + .seconds(1))
        let loads = ["batch": 5.0, "web": 0.0]
        let policy = WaitQueue.Policy(load: { loads[$0] ?? 0 }, admits: { _ in true })
        #expect(queue.popNext(preferring: 0, within: .zero, policy: policy)?.tag.client == c(2))
    }

    /// A policy that admits nobody leaves everyone queued; one that admits nobody of the best standing lets
    /// the next standing down have the server.
    @Test func popNextSkipsWaitersThePolicyDoesNotAdmit() {
        var queue = WaitQueue()
        queue.append(tag(1, app: "batch", standing: .proven), since: t0)
        queue.append(tag(2, app: "web", standing: .suspect), since: t0 + .seconds(1))

        let nobody = WaitQueue.Policy(load: { _ in 0 }, admits: { _ in false })
        #expect(queue.popNext(preferring: 0, within: .zero, policy: nobody) == nil)
        #expect(queue.count == 2)

        let notBatch = WaitQueue.Policy(load: { _ in 0 }, admits: { $0.application != "batch" })
        #expect(queue.popNext(preferring: 0, within: .zero, policy: notBatch)?.tag.client == c(2))
        #expect(queue.waiting.map(\.tag.client) == [c(1)])
    }

    /// Without a policy, a waiter on the releasing server's loop that came within the window of the oldest is
    /// served first; one that came later than the window is not.
    @Test func popNextPrefersWaiterOnLoopWithinWindow() {
        var queue = WaitQueue()
        queue.append(tag(1, loop: 0), since: t0)
        queue.append(tag(2, loop: 1), since: t0 + .milliseconds(1))
        queue.append(tag(3, loop: 1), since: t0 + .milliseconds(1))
        #expect(queue.popNext(preferring: 1, within: .milliseconds(2))?.tag.client == c(2))

        var late = WaitQueue()
        late.append(tag(1, loop: 0), since: t0)
        late.append(tag(2, loop: 1), since: t0 + .milliseconds(3))
        #expect(late.popNext(preferring: 1, within: .milliseconds(2))?.tag.client == c(1))
    }

    /// Counts per standing stay right after removals from the middle and the front: the remaining waiters are
    /// still served (a stale count of a standing nobody has would serve no one).
    @Test func countsStayRightAfterRemovals() {
        var queue = WaitQueue()
        queue.append(tag(1, standing: .proven), since: t0)
        queue.append(tag(2, standing: .new), since: t0 + .seconds(1))
        queue.append(tag(3, standing: .proven), since: t0 + .seconds(2))
        queue.append(tag(4, standing: .suspect), since: t0 + .seconds(3))
        queue.append(tag(5, standing: .new), since: t0 + .seconds(4))

        let removedMiddle = queue.remove(c(3))
        let removedAgain = queue.remove(c(3))
        let removedFront = queue.remove(c(1))
        #expect(removedMiddle && !removedAgain && removedFront)
        #expect(queue.count == 3)
        #expect(!queue.contains(c(1)) && queue.contains(c(2)))

        // No proven waiter is left: the new ones come next, then the suspect one.
        #expect(queue.popNext(preferring: 0, within: .zero)?.tag.client == c(2))
        #expect(queue.popNext(preferring: 0, within: .zero)?.tag.client == c(5))
        #expect(queue.popNext(preferring: 0, within: .zero)?.tag.client == c(4))
        #expect(queue.popNext(preferring: 0, within: .zero) == nil)

        // Timed-out waiters leave the counts right too.
        queue.append(tag(6, standing: .proven), since: t0)
        queue.append(tag(7, standing: .new), since: t0 + .seconds(10))
        #expect(queue.removeAll(waitingSince: t0 + .seconds(5)).map(\.tag.client) == [c(6)])
        #expect(queue.popNext(preferring: 0, within: .zero)?.tag.client == c(7))
        #expect(queue.isEmpty)
    }

    /// Many waiters come and go through the front (compaction): counts and order stay right.
    @Test func countsStayRightThroughCompaction() {
        var queue = WaitQueue()
        for n in 1...200 { queue.append(tag(UInt64(n), standing: n % 2 == 0 ? .proven : .new), since: t0) }
        for n in 1...150 { #expect(queue.popFirst()?.tag.client == c(UInt64(n))) }
        #expect(queue.count == 50)
        // Left: 151 … 200, even ones proven.
        #expect(queue.waiting.first?.tag.client == c(151))
        #expect(queue.popNext(preferring: 0, within: .zero)?.tag.client == c(152))
        #expect(queue.popNext(preferring: 0, within: .zero)?.tag.client == c(154))
        #expect(queue.count == 48)
    }

    // MARK: The pool handing released servers to waiters

    /// A released server goes to the best-standing waiter, then the next: proven, new, suspect (all within
    /// `WaitQueue.newcomerGrace`, after which a new client ranks as proven: NewcomerGraceTests).
    @Test func releaseServesWaitersByStanding() {
        var pool = makePool(.init(poolSize: 1))
        let s1 = hold(tag(1), in: &pool, now: t0)
        #expect(pool.acquire(tag(2, standing: .suspect), now: t0, capacity: 100) == .wait)
        #expect(pool.acquire(tag(3, standing: .new), now: t0 + .milliseconds(1), capacity: 100) == .wait)
        #expect(pool.acquire(tag(4, standing: .proven), now: t0 + .milliseconds(2), capacity: 100) == .wait)

        #expect(
            pool.release(s1, needsReset: false, now: t0 + .milliseconds(3), capacity: 100)
                == .assign(s1, to: tag(4, standing: .proven)))
        #expect(
            pool.release(s1, needsReset: false, now: t0 + .milliseconds(4), capacity: 100)
                == .assign(s1, to: tag(3, standing: .new)))
        #expect(
            pool.release(s1, needsReset: false, now: t0 + .milliseconds(5), capacity: 100)
                == .assign(s1, to: tag(2, standing: .suspect)))
        #expect(pool.waitingCount == 0)
    }

    /// Two applications wait: the server released by a third goes to the application holding fewer servers,
    /// though its waiter came later.
    @Test func releaseGoesToApplicationHoldingFewestServers() {
        var pool = makePool(.init(poolSize: 4))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(2, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(3, app: "web"), in: &pool, now: t0)
        let report = hold(tag(4, app: "report"), in: &pool, now: t0)
        #expect(pool.acquire(tag(5, app: "batch"), now: t0 + .seconds(1), capacity: 100) == .wait)
        #expect(pool.acquire(tag(6, app: "web"), now: t0 + .seconds(2), capacity: 100) == .wait)
        #expect(pool.serversHeldByApplication == ["batch": 2, "web": 1, "report": 1])

        #expect(
            pool.release(report, needsReset: false, now: t0 + .seconds(3), capacity: 100)
                == .assign(report, to: tag(6, app: "web")))
        #expect(pool.waiters.waiting.map(\.tag.client) == [c(5)])
        #expect(pool.serversHeldByApplication == ["batch": 2, "web": 2])
    }

    /// Weights count: batch at weight 3 holding 2 servers is less loaded (2/3) than web at weight 1 holding 1,
    /// so batch's waiter is served although web's came first.
    @Test func releaseWeighsHoldingsByApplicationWeight() {
        var pool = makePool(.init(poolSize: 4, applications: ["batch": .init(weight: 3)]))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(2, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(3, app: "web"), in: &pool, now: t0)
        let report = hold(tag(4, app: "report"), in: &pool, now: t0)
        #expect(pool.acquire(tag(5, app: "web"), now: t0 + .seconds(1), capacity: 100) == .wait)
        #expect(pool.acquire(tag(6, app: "batch"), now: t0 + .seconds(2), capacity: 100) == .wait)

        #expect(
            pool.release(report, needsReset: false, now: t0 + .seconds(3), capacity: 100)
                == .assign(report, to: tag(6, app: "batch")))
        #expect(pool.waiters.waiting.map(\.tag.client) == [c(5)])
    }

    /// An application at its max_server_connections cap keeps its waiter queued: the server goes to a later
    /// waiter of another application.
    @Test func capKeepsApplicationsWaiterQueued() {
        var pool = makePool(.init(poolSize: 2, applications: ["batch": .init(maxServerConnections: 1)]))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        let s2 = hold(tag(2, app: "web"), in: &pool, now: t0)
        #expect(pool.acquire(tag(3, app: "batch"), now: t0 + .seconds(1), capacity: 100) == .wait)
        #expect(pool.acquire(tag(4, app: "web"), now: t0 + .seconds(2), capacity: 100) == .wait)

        #expect(
            pool.release(s2, needsReset: false, now: t0 + .seconds(3), capacity: 100)
                == .assign(s2, to: tag(4, app: "web")))
        #expect(pool.waiters.contains(c(3)))

        // Nobody else waits: the server web gives back stays idle rather than going over batch's cap.
        #expect(pool.release(s2, needsReset: false, now: t0 + .seconds(4), capacity: 100) == .idle)
        #expect(pool.waiters.contains(c(3)))
        #expect(pool.serversHeldByApplication == ["batch": 1])
    }

    /// The capped application's own server coming back goes to its own waiter: after the release it holds
    /// nothing, well under its cap (the releasing client no longer holds the server it gave back).
    @Test func serverReleasedByCappedApplicationGoesToItsWaiter() {
        var pool = makePool(.init(poolSize: 1, applications: ["batch": .init(maxServerConnections: 1)]))
        let s1 = hold(tag(1, app: "batch"), in: &pool, now: t0)
        #expect(pool.acquire(tag(2, app: "batch"), now: t0 + .seconds(1), capacity: 100) == .wait)

        let action = pool.release(s1, needsReset: false, now: t0 + .seconds(2), capacity: 100)
        #expect(action == .assign(s1, to: tag(2, app: "batch")), "a waiter was left queued beside an idle server")
        #expect(pool.waitingCount == 0)
    }

    /// Loads are counted without the server being given back: with batch and web each holding one server
    /// after batch releases its second, the tie goes to the oldest waiter (batch's).
    @Test func releasingApplicationIsCountedWithoutTheServerItGaveBack() {
        var pool = makePool(.init(poolSize: 3))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        let s2 = hold(tag(2, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(3, app: "web"), in: &pool, now: t0)
        #expect(pool.acquire(tag(4, app: "batch"), now: t0 + .seconds(1), capacity: 100) == .wait)
        #expect(pool.acquire(tag(5, app: "web"), now: t0 + .seconds(2), capacity: 100) == .wait)

        #expect(
            pool.release(s2, needsReset: false, now: t0 + .seconds(3), capacity: 100)
                == .assign(s2, to: tag(4, app: "batch")))
    }

    /// An application at its cap does not take an idle server either: it waits for one of its own to come back.
    @Test func capAppliesWhenAcquiringAnIdleServer() {
        var pool = makePool(.init(poolSize: 2, applications: ["batch": .init(maxServerConnections: 1)]))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        let s2 = hold(tag(2, app: "web"), in: &pool, now: t0)
        #expect(pool.release(s2, needsReset: false, now: t0, capacity: 100) == .idle)

        #expect(pool.acquire(tag(3, app: "batch"), now: t0 + .seconds(1), capacity: 100) == .wait)
        #expect(pool.serversHeldByApplication == ["batch": 1])
        #expect(pool.acquire(tag(4, app: "web"), now: t0 + .seconds(2), capacity: 100) == .assign(s2))
    }

    /// One application alone, no [applications] section (the fast path): loop affinity within the window
    /// still applies; a waiter past the window waits its turn.
    @Test func singleApplicationFastPathKeepsLoopAffinity() {
        var pool = makePool(.init(poolSize: 1, loopAffinityWindow: .milliseconds(2)))
        let s1 = hold(tag(1, loop: 0), in: &pool, now: t0)
        #expect(pool.servers[s1]?.loop == 0)
        #expect(pool.acquire(tag(2, loop: 1), now: t0, capacity: 100) == .wait)
        #expect(pool.acquire(tag(3, loop: 0), now: t0 + .milliseconds(1), capacity: 100) == .wait)
        #expect(pool.acquire(tag(4, loop: 0), now: t0 + .milliseconds(5), capacity: 100) == .wait)

        // c3 is on s1's loop and came within 2 ms of c2: it is served first.
        #expect(
            pool.release(s1, needsReset: false, now: t0 + .seconds(1), capacity: 100)
                == .assign(s1, to: tag(3, loop: 0)))
        // c4 is on s1's loop too but came 5 ms after c2: c2 goes first.
        #expect(
            pool.release(s1, needsReset: false, now: t0 + .seconds(2), capacity: 100)
                == .assign(s1, to: tag(2, loop: 1)))
        #expect(
            pool.release(s1, needsReset: false, now: t0 + .seconds(3), capacity: 100)
                == .assign(s1, to: tag(4, loop: 0)))
    }

    /// Fair shares split the pool size by weight among applications holding or waiting.
    @Test func fairSharesSplitPoolSizeByWeight() {
        var pool = makePool(.init(poolSize: 8, applications: ["batch": .init(weight: 3)]))
        _ = hold(tag(1, app: "batch"), in: &pool, now: t0)
        _ = hold(tag(2, app: "web"), in: &pool, now: t0)
        #expect(pool.fairShares() == ["batch": 6, "web": 2])
    }

    /// The queue knows without a scan whether applications mix: one application alone keeps the plain
    /// arrival-order path; a second one waiting turns fair sharing on until the queue has emptied.
    @Test func queueTracksWhetherApplicationsMix() {
        var queue = WaitQueue()
        queue.append(tag(1, app: "web"), since: t0)
        queue.append(tag(2, app: "web"), since: t0)
        #expect(!queue.mixesApplications)
        queue.append(tag(3, app: "batch"), since: t0)
        #expect(queue.mixesApplications)
        while queue.popFirst() != nil {}
        queue.append(tag(4, app: "batch"), since: t0)
        #expect(!queue.mixesApplications)
    }
}
