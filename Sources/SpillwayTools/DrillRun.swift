import Foundation
import NIOConcurrencyHelpers

/// One run of the drill: the leaky job, the API, the on-call engineer and the backend sampler side by side for
/// the run's duration, directly against PostgreSQL or through an in-process Spillway; then the leaked sessions
/// are closed and every session of the drill's roles is ended, so the next run starts clean.
struct DrillRun: Sendable {
    var mode: DrillMode
    var variant: DrillVariant
    var options: DrillOptions
    var database: DrillDatabase
    var progress: @Sendable (String) -> Void

    /// Lines of Spillway's log (the end of the run, before shutdown) kept when a run through it falls short.
    static let logTailLines = 10

    /// Runs, cleans up, returns the numbers. `workspace`: where Spillway's folder goes.
    func run(workspace: String) async throws -> DrillRunResult {
        let label = "\(mode.rawValue) (\(variant.rawValue))"
        switch mode {
        case .direct:
            progress("\(label): \(options.duration.formattedSeconds) straight to PostgreSQL")
            let sessions = LeakedSessions(limit: options.maxLeaked)
            let result = await measure(
                job: database.appConfiguration(applicationName: variant.jobApplicationName),
                api: database.appConfiguration(applicationName: variant.apiApplicationName),
                probe: database.oncallConfiguration(), probeQuery: "SELECT 1", sessions: sessions)
            await sessions.closeAll()
            try await database.endDrillSessions()
            return result
        case .spillway:
            let directory = "\(workspace)/spillway-\(variant.rawValue)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let spillway = try await DrillSpillway.start(
                database: database, directory: directory, executable: options.spillwayExecutable)
            progress(
                "\(label): \(options.duration.formattedSeconds) through Spillway on 127.0.0.1:\(spillway.port)"
                    + " (\(DrillSpillway.nonDefaultSetting)); its log: \(spillway.log.path)")
            let sessions = LeakedSessions(limit: options.maxLeaked)
            var result = await measure(
                job: spillway.appConfiguration(database, applicationName: variant.jobApplicationName),
                api: spillway.appConfiguration(database, applicationName: variant.apiApplicationName),
                probe: spillway.consoleConfiguration(database), probeQuery: "SHOW POOLS", sessions: sessions)
            // Read the log and ask before anything closes: the leaks are still there, and shutdown lines would
            // bury what happened during the run.
            let tail = TextFile.lastLines(of: spillway.log.path, count: Self.logTailLines)
            result.leaks = await spillway.showLeaks(database)
            await sessions.closeAll()
            await spillway.stop()
            try await database.endDrillSessions()
            result.spillwayLog = spillway.log.path
            if result.shortfall != nil {
                result.logTail = tail.split(separator: "\n").map(String.init)
            }
            return result
        }
    }

    /// Runs the four parts until the deadline; the API's requests in flight then end within its timeout.
    private func measure(
        job jobLogin: WireClient.Configuration, api apiLogin: WireClient.Configuration,
        probe probeLogin: WireClient.Configuration, probeQuery: String, sessions: LeakedSessions
    ) async -> DrillRunResult {
        let start = ContinuousClock.now
        let deadline = start + options.duration
        let apiStats = NIOLockedValueBox(APIStats())
        let jobStats = NIOLockedValueBox(JobStats())
        let job = LeakyJob(
            configuration: jobLogin, workers: options.leakers, itemInterval: options.itemInterval,
            stepTimeout: options.jobTimeout, rows: options.rows, sessions: sessions, stats: jobStats)
        let api = APILoad(
            configuration: apiLogin, clients: options.apiClients, rate: options.apiRate, timeout: options.apiTimeout,
            rows: options.rows, stats: apiStats)
        let probe = AdminProbe(
            configuration: probeLogin, query: probeQuery, interval: options.probeInterval,
            timeout: options.probeTimeout, warmUp: min(options.probeWarmUp, options.duration / 2))
        let sampler = BackendSampler(monitor: database.monitor)

        async let peak = sampler.run(until: deadline)
        async let probeStats = probe.run(from: start, until: deadline)
        async let apiDone: Void = api.run(until: deadline)
        async let jobDone: Void = Self.run(job, until: deadline)
        async let tickerDone: Void = tick(start: start, deadline: deadline, api: apiStats, job: jobStats)
        _ = await (apiDone, jobDone, tickerDone)
        return DrillRunResult(
            mode: mode, variant: variant, api: apiStats.withLockedValue { $0 }, job: jobStats.withLockedValue { $0 },
            adminProbe: await probeStats, peakBackends: await peak)
    }

    /// Runs the leaky job until `deadline`, then cancels it (steps in flight close their sessions).
    private static func run(_ job: LeakyJob, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await job.run() }
            try? await Task.sleep(until: deadline, clock: .continuous)
            group.cancelAll()
        }
    }

    /// A progress line every 10 seconds.
    private func tick(
        start: ContinuousClock.Instant, deadline: ContinuousClock.Instant, api: NIOLockedValueBox<APIStats>,
        job: NIOLockedValueBox<JobStats>
    ) async {
        var next = start + .seconds(10)
        while next < deadline {
            try? await Task.sleep(until: next, clock: .continuous)
            let apiNow = api.withLockedValue { $0 }
            let jobNow = job.withLockedValue { $0 }
            progress(
                "  \((next - start).formattedSeconds): API \(apiNow.successes)/\(apiNow.attempts) ok, "
                    + "job \(jobNow.leaked) sessions leaked, \(jobNow.failures) failed")
            next += .seconds(10)
        }
    }
}
