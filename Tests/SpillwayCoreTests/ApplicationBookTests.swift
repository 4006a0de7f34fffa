import Testing

@testable import SpillwayCore

@Suite struct ApplicationBookTests {
    /// Admits `count` clients of `application` one by one; `total` counts up from `from` (this one included).
    private func admit(
        _ count: Int, of application: String, into book: inout ApplicationBook, from total: inout Int, limit: Int
    ) {
        for _ in 0..<count {
            total += 1
            let refusal = book.admit(application, total: total, limit: limit, applicationLimit: nil)
            precondition(refusal == nil, "\(application) refused: \(String(describing: refusal))")
        }
    }

    // MARK: max_client_connections per application

    /// An application at its max_client_connections is refused with a message naming it and the setting;
    /// the refused client is not counted, and other applications still get in.
    @Test func applicationLimitRefusesWithMessage() {
        var book = ApplicationBook()
        #expect(book.admit("nightly", total: 1, limit: 100, applicationLimit: 2) == nil)
        #expect(book.admit("nightly", total: 2, limit: 100, applicationLimit: 2) == nil)

        let refusal = book.admit("nightly", total: 3, limit: 100, applicationLimit: 2)
        #expect(refusal == .applicationLimit(application: "nightly", limit: 2))
        #expect(refusal?.message == "too many connections for application \"nightly\" (max_client_connections 2)")
        #expect(book.clients == ["nightly": 2])

        #expect(book.admit("web", total: 3, limit: 100, applicationLimit: 2) == nil)
        #expect(book.clients == ["nightly": 2, "web": 1])
    }

    /// Once a client of the capped application leaves, the next one gets in again.
    @Test func applicationLimitFreesUpWhenAClientLeaves() {
        var book = ApplicationBook()
        #expect(book.admit("nightly", total: 1, limit: 100, applicationLimit: 1) == nil)
        #expect(book.admit("nightly", total: 2, limit: 100, applicationLimit: 1) != nil)
        book.left("nightly")
        #expect(book.admit("nightly", total: 1, limit: 100, applicationLimit: 1) == nil)
    }

    // MARK: Near max_client_conn

    /// Past 80% of max_client_conn the application holding the most client connections is refused, with a
    /// message naming it and the numbers, while another application still gets in.
    @Test func crowdedRefusesTopApplicationOnly() {
        var book = ApplicationBook()
        var total = 0
        admit(7, of: "nightly", into: &book, from: &total, limit: 10)
        admit(1, of: "web", into: &book, from: &total, limit: 10)
        #expect(total == 8)

        let refusal = book.admit("nightly", total: 9, limit: 10, applicationLimit: nil)
        #expect(refusal == .crowded(application: "nightly", holding: 7, total: 9, limit: 10))
        #expect(
            refusal?.message == "too many connections: application \"nightly\" holds the most client connections (7) "
                + "and Spillway has 9 of max_client_conn 10")
        #expect(book.clients["nightly"] == 7)

        #expect(book.admit("web", total: 9, limit: 10, applicationLimit: nil) == nil)
        #expect(book.admit("report", total: 10, limit: 10, applicationLimit: nil) == nil)
        #expect(book.clients == ["nightly": 7, "web": 2, "report": 1])
    }

    /// At exactly 80% of max_client_conn nobody is refused yet; only past it.
    @Test func crowdedStartsPastEightyPercent() {
        var book = ApplicationBook()
        var total = 0
        admit(1, of: "web", into: &book, from: &total, limit: 10)
        admit(6, of: "nightly", into: &book, from: &total, limit: 10)
        #expect(book.admit("nightly", total: 8, limit: 10, applicationLimit: nil) == nil)
        #expect(book.admit("nightly", total: 9, limit: 10, applicationLimit: nil) != nil)
    }

    /// A single application is never "crowding out" anyone: it gets the whole max_client_conn.
    @Test func singleApplicationGetsAllOfMaxClientConn() {
        var book = ApplicationBook()
        for total in 1...25 {
            #expect(book.admit("api", total: total, limit: 25, applicationLimit: nil) == nil, "client \(total)")
        }
        #expect(book.clients == ["api": 25])
    }

    /// Applications tied for the most connections are all refused; one with fewer gets in.
    @Test func crowdedRefusesEveryApplicationTiedForTop() {
        var book = ApplicationBook()
        var total = 0
        admit(4, of: "a", into: &book, from: &total, limit: 10)
        admit(4, of: "b", into: &book, from: &total, limit: 10)
        admit(1, of: "c", into: &book, from: &total, limit: 10)
        #expect(book.admit("a", total: 10, limit: 10, applicationLimit: nil) != nil)
        #expect(book.admit("b", total: 10, limit: 10, applicationLimit: nil) != nil)
        #expect(book.admit("c", total: 10, limit: 10, applicationLimit: nil) == nil)
    }

    // MARK: Counts

    /// `left` takes one off and drops the application at zero; leaving an unknown application does nothing.
    @Test func leftKeepsCountsRight() {
        var book = ApplicationBook()
        var total = 0
        admit(2, of: "web", into: &book, from: &total, limit: 100)
        book.left("web")
        #expect(book.clients == ["web": 1])
        book.left("web")
        #expect(book.clients.isEmpty)
        book.left("web")
        book.left("never-seen")
        #expect(book.clients.isEmpty)
    }

    /// A client that sets another application_name moves its count; moving to the same name changes nothing.
    @Test func movedKeepsCountsRight() {
        var book = ApplicationBook()
        var total = 0
        admit(2, of: "10.0.3.7", into: &book, from: &total, limit: 100)
        book.moved(from: "10.0.3.7", to: "nightly")
        #expect(book.clients == ["10.0.3.7": 1, "nightly": 1])
        book.moved(from: "10.0.3.7", to: "nightly")
        #expect(book.clients == ["nightly": 2])
        book.moved(from: "nightly", to: "nightly")
        #expect(book.clients == ["nightly": 2])
    }

    /// The moved count decides who is crowded out: after moving, the new name holds the most.
    @Test func movedCountsDecideCrowding() {
        var book = ApplicationBook()
        var total = 0
        admit(5, of: "web", into: &book, from: &total, limit: 10)
        admit(4, of: "psql", into: &book, from: &total, limit: 10)
        book.moved(from: "psql", to: "nightly")
        book.moved(from: "web", to: "nightly")
        #expect(book.clients == ["web": 4, "psql": 3, "nightly": 2])
        #expect(
            book.admit("web", total: 10, limit: 10, applicationLimit: nil)
                == .crowded(application: "web", holding: 4, total: 10, limit: 10))
        #expect(book.admit("nightly", total: 10, limit: 10, applicationLimit: nil) == nil)
    }

    /// Suspected leaks add up per application.
    @Test func leaksSeenAddUp() {
        var book = ApplicationBook()
        book.leakSeen("nightly")
        book.leakSeen("nightly")
        book.leakSeen("web")
        #expect(book.leaksSeen == ["nightly": 2, "web": 1])
    }
}

/// GrowthWatch lives beside the book (same folder) and runs under the same filter.
extension ApplicationBookTests {
    @Suite struct GrowthWatchTests {
        /// Feeds one sample a second for each application: `series[app][i]` is (clients, active) at second i.
        private func feed(
            _ watch: inout GrowthWatch, _ series: [String: [(clients: Int, active: Int)]], seconds: Range<Int>
        ) {
            for second in seconds {
                var counts: [String: (clients: Int, active: Int)] = [:]
                for (application, samples) in series where second < samples.count {
                    counts[application] = samples[second]
                }
                watch.record(counts)
            }
        }

        private func steady(from start: Int, seconds: Int, active: Int = 2) -> [(clients: Int, active: Int)] {
            (0..<seconds).map { (start + $0, active) }
        }

        /// Clients growing one a second with a flat active count: a suspect once a full window is seen, not before;
        /// a flat neighbour is not.
        @Test func steadyGrowthWithFlatActiveIsSuspectAfterAFullWindow() {
            var watch = GrowthWatch()  // 30 s window, at least 20 more and 50% more
            let series = ["nightly": steady(from: 10, seconds: 30), "web": Array(repeating: (40, 5), count: 30)]
            feed(&watch, series, seconds: 0..<29)
            #expect(watch.suspects.isEmpty)

            feed(&watch, series, seconds: 29..<30)
            let suspects = watch.suspects
            #expect(suspects.map(\.application) == ["nightly"])
            #expect(suspects.first?.from == 10)
            #expect(suspects.first?.to == 39)
        }

        /// The window slides: an application growing for longer is judged on the last window's samples.
        @Test func windowSlides() {
            var watch = GrowthWatch(window: 10, minimumGrowth: 5, minimumRatio: 0.5)
            feed(&watch, ["nightly": steady(from: 5, seconds: 15)], seconds: 0..<15)
            #expect(watch.suspects.map(\.from) == [10])
            #expect(watch.suspects.map(\.to) == [19])
        }

        /// Growth that dips once on the way (clients closing as well as opening) is ordinary load, not a leak.
        @Test func fluctuatingGrowthIsNotSuspect() {
            var watch = GrowthWatch()
            var series = steady(from: 10, seconds: 30)
            series[15].clients -= 2
            feed(&watch, ["nightly": series], seconds: 0..<30)
            #expect(watch.suspects.isEmpty)
        }

        /// Clients growing with their active count growing too is more work, not a leak.
        @Test func growthWithGrowingActiveIsNotSuspect() {
            var watch = GrowthWatch()
            let series = (0..<30).map { (clients: 10 + $0, active: 2 + $0 / 3) }
            feed(&watch, ["nightly": series], seconds: 0..<30)
            #expect(watch.suspects.isEmpty)
        }

        /// Growth under the minimums (too few, or too small a share of the start) is not a leak.
        @Test func smallGrowthIsNotSuspect() {
            var watch = GrowthWatch()
            // 19 more: below minimum_growth 20.
            feed(&watch, ["few": (0..<30).map { (10 + min($0, 19), 2) }], seconds: 0..<30)
            #expect(watch.suspects.isEmpty)

            var big = GrowthWatch()
            // 29 more on a base of 100: below 50%.
            feed(&big, ["big": steady(from: 100, seconds: 30)], seconds: 0..<30)
            #expect(big.suspects.isEmpty)
        }

        /// An application missing from a second's counts (no clients left) is forgotten: it needs a full window
        /// again before it can be a suspect.
        @Test func forgottenApplicationsDropOut() {
            var watch = GrowthWatch()
            let series = steady(from: 10, seconds: 30)
            feed(&watch, ["nightly": series], seconds: 0..<30)
            #expect(watch.suspects.map(\.application) == ["nightly"])

            watch.record([:])
            #expect(watch.suspects.isEmpty)

            feed(&watch, ["nightly": series], seconds: 0..<29)
            #expect(watch.suspects.isEmpty)
            feed(&watch, ["nightly": series], seconds: 29..<30)
            #expect(watch.suspects.map(\.application) == ["nightly"])
        }
    }
}
