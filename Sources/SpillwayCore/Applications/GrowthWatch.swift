/// Spots the second kind of leak: an application whose client connections keep growing while the number of
/// them doing anything does not (sessions opened per item and never closed).
///
/// Fed once a second with each application's (clients, active) counts; keeps a window of samples.
public struct GrowthWatch: Sendable, Equatable {
    /// Samples kept (seconds).
    public var window: Int
    /// Growth over the window that counts as a leak: at least this many more clients...
    public var minimumGrowth: Int
    /// ...and at least this share more than at the window's start.
    public var minimumRatio: Double

    private var samples: [String: [Sample]] = [:]

    struct Sample: Sendable, Equatable {
        var clients: Int
        var active: Int
    }

    public init(window: Int = 30, minimumGrowth: Int = 20, minimumRatio: Double = 0.5) {
        self.window = window
        self.minimumGrowth = minimumGrowth
        self.minimumRatio = minimumRatio
    }

    /// Records one second's counts; applications missing from `counts` are forgotten.
    public mutating func record(_ counts: [String: (clients: Int, active: Int)]) {
        for application in samples.keys where counts[application] == nil { samples[application] = nil }
        for (application, count) in counts {
            var history = samples[application] ?? []
            history.append(Sample(clients: count.clients, active: count.active))
            if history.count > window { history.removeFirst(history.count - window) }
            samples[application] = history
        }
    }

    /// Applications whose clients grew steadily over a full window while their active count stayed flat, with
    /// the growth.
    public var suspects: [(application: String, from: Int, to: Int)] {
        var found: [(application: String, from: Int, to: Int)] = []
        for (application, history) in samples where history.count >= window {
            guard let first = history.first, let last = history.last else { continue }
            let grew = last.clients - first.clients
            guard grew >= minimumGrowth, Double(grew) >= Double(max(first.clients, 1)) * minimumRatio else { continue }
            // Never shrinking: a leak only accumulates.
            guard zip(history, history.dropFirst()).allSatisfy({ $0.clients <= $1.clients }) else { continue }
            // Active work did not grow with it.
            let activeBefore = history.prefix(window / 3).map(\.active).max() ?? 0
            let activeAfter = history.suffix(window / 3).map(\.active).max() ?? 0
            guard activeAfter <= activeBefore + 1 else { continue }
            found.append((application, first.clients, last.clients))
        }
        return found.sorted { $0.application < $1.application }
    }
}
