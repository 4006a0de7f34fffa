import Foundation

/// `spillway drill`: replays the incident on this machine. Starts a throwaway PostgreSQL with max_connections 85
/// (or uses `--dsn`), creates the drill's roles and table, then for each variant runs the same workload directly
/// and through an in-process Spillway, and returns the numbers. Throws `SetupError` when it cannot get that far.
public struct Drill: Sendable {
    /// The database the drill creates in a throwaway cluster.
    static let throwawayDatabase = "spillway_drill"

    public var options: DrillOptions
    /// Receives progress lines (the command prints them on stderr).
    public var progress: @Sendable (String) -> Void
    /// Where the throwaway cluster registers its stop for Ctrl-C; nil when nobody traps signals.
    public var interrupts: InterruptCleanup?

    public init(
        options: DrillOptions, progress: @escaping @Sendable (String) -> Void = { _ in },
        interrupts: InterruptCleanup? = nil
    ) {
        self.options = options
        self.progress = progress
        self.interrupts = interrupts
    }

    /// Runs every variant and mode in order. The throwaway cluster, if any, is stopped and removed before
    /// returning or throwing; the workspace folder (Spillway's logs) stays.
    public func run() async throws -> DrillReport {
        let workspace = try Self.makeWorkspace()
        progress("drill folder: \(workspace)")
        var cluster: ThrowawayCluster?
        var monitor: WireClient?
        do {
            let superuser: WireClient.Configuration
            if let dsn = options.dsn {
                superuser = try PostgresURL.parse(dsn)
            } else {
                let started = try await startCluster()
                cluster = started
                superuser = started.superuserConfiguration(database: Self.throwawayDatabase)
            }
            let session = try await Self.connectSuperuser(superuser)
            monitor = session
            progress("creating roles \(DrillDatabase.appUser), \(DrillDatabase.oncallUser) and \(options.rows) rows")
            let database = try await DrillDatabase.prepare(
                monitor: session, rows: options.rows, md5Passwords: cluster != nil)
            let budget = try await database.connectionBudget()
            let server =
                "PostgreSQL \(session.parameters["server_version"] ?? "?") at "
                + "\(superuser.host):\(superuser.port)/\(superuser.database)"
                + (cluster == nil ? " (--dsn)" : " (throwaway)")
                + ", max_connections \(budget.maxConnections) (\(budget.reserved) reserved for superusers)"
            var runs: [DrillRunResult] = []
            for variant in options.variants {
                for mode in options.modes {
                    let run = DrillRun(
                        mode: mode, variant: variant, options: options, database: database, progress: progress)
                    runs.append(try await run.run(workspace: workspace))
                }
            }
            await session.close()
            await cluster?.stop()
            return DrillReport(
                server: server, workload: DrillReport.workload(options),
                spillwaySettings: "defaults, except \(DrillSpillway.nonDefaultSetting)", workspace: workspace,
                runs: runs)
        } catch {
            await monitor?.close()
            await cluster?.stop()
            // Keep the folder only if a run through Spillway left its log there.
            if (try? FileManager.default.contentsOfDirectory(atPath: workspace))?.isEmpty ?? false {
                try? FileManager.default.removeItem(atPath: workspace)
            }
            if let error = error as? SetupError {
                throw error
            }
            throw SetupError("\(error)")
        }
    }

    /// Starts the throwaway cluster, has Ctrl-C stop it, and creates the drill's database in it.
    private func startCluster() async throws -> ThrowawayCluster {
        let cluster = try await ThrowawayCluster.start(maxConnections: options.maxConnections, progress: progress)
        interrupts?.register { [progress] in
            progress("interrupted: stopping the throwaway PostgreSQL and removing \(cluster.directory)")
            cluster.stopNow()
        }
        do {
            try await Self.createDatabase(in: cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        return cluster
    }

    /// Creates the drill's database in a fresh throwaway cluster.
    private static func createDatabase(in cluster: ThrowawayCluster) async throws {
        let admin = try await connectSuperuser(cluster.superuserConfiguration())
        do {
            try await admin.query("CREATE DATABASE \(throwawayDatabase)", timeout: .seconds(60))
        } catch {
            await admin.close()
            throw SetupError("cannot create database \(throwawayDatabase): \(error)")
        }
        await admin.close()
    }

    /// Logs in as the superuser and checks that it is one (the drill creates roles and reads every session).
    private static func connectSuperuser(_ configuration: WireClient.Configuration) async throws -> WireClient {
        let client: WireClient
        do {
            client = try await WireClient.connect(configuration)
        } catch {
            throw SetupError(
                "cannot log in to \(configuration.host):\(configuration.port)/\(configuration.database) "
                    + "as \(configuration.user): \(error)")
        }
        let isSuperuser = try? await client.query(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", timeout: .seconds(10)
        ).scalar
        guard isSuperuser == "t" else {
            await client.close()
            throw SetupError("\(configuration.user) is not a superuser; the drill needs one (give a superuser --dsn)")
        }
        return client
    }

    /// A new folder for Spillway's configuration and logs.
    private static func makeWorkspace() throws -> String {
        var template = Array("/tmp/spillway-drill.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SetupError("cannot create a temporary folder under /tmp: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
