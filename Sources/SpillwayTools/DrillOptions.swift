import Foundation
/// What the drill runs: the workload's size and timing, and which halves and variants.
public struct DrillOptions: Sendable {
    /// An existing server to use (`postgres://user:pass@host:port/db`, a superuser); nil starts a throwaway one.
    public var dsn: String?
    /// How long each run lasts.
    public var duration: Duration = .seconds(60)
    /// Concurrent workers of the leaky job.
    public var leakers = 40
    /// Each leaky worker opens a new session this often.
    public var itemInterval: Duration = .seconds(1)
    /// The most sessions the leaky job holds open at once (bounds file descriptors).
    public var maxLeaked = 3000
    /// How long one step of the leaky job (connect, or one statement) may wait before it counts as failed.
    public var jobTimeout: Duration = .seconds(10)
    /// Concurrent API clients.
    public var apiClients = 20
    /// Requests per second of each API client, sent at a steady rate whether or not earlier ones have answered.
    public var apiRate: Double = 10
    /// A request (connect, query) counts as a success only when it completes within this.
    public var apiTimeout: Duration = .seconds(2)
    /// The on-call engineer tries to log in this often.
    public var probeInterval: Duration = .seconds(2)
    /// How long the engineer's login plus query may take.
    public var probeTimeout: Duration = .seconds(5)
    /// Login attempts in the first part of a run do not count: the leak has not built up yet. Capped at half the
    /// run.
    public var probeWarmUp: Duration = .seconds(5)
    /// Rows in `drill_items`.
    public var rows = 100_000
    /// `max_connections` of the throwaway cluster.
    public var maxConnections = 85
    /// The `spillway` executable the runs through Spillway start (as `spillway run`); this process's own by
    /// default, which is right for `spillway drill`. Started as root, it is given `user = postgres` and drops to
    /// it after binding, as Debian runs PgBouncer.
    public var spillwayExecutable: String = DrillOptions.ownExecutable

    /// The path of the running executable (/proc/self/exe).
    public static var ownExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
    /// The halves to run, in order.
    public var modes: [DrillMode] = [.direct, .spillway]
    /// The variants to run, in order; each runs every mode.
    public var variants: [DrillVariant] = [.labelled, .unlabelled]

    public init() {}
}
