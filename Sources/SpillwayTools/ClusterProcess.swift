import Foundation

/// Runs the PostgreSQL programs of a throwaway cluster with Foundation's `Process`, as the cluster's owner, from
/// `/` (a working folder under /root would bother the `postgres` user), output appended to a log file.
///
/// Only programs that end on their own are waited for here; `postgres` itself is `spawn`ed and stopped with
/// `pg_ctl stop` (a daemonised postmaster would keep `pg_ctl start`'s waiters hanging).
enum ClusterProcess {
    /// Runs `argv` to completion without blocking a thread; returns its exit status.
    static func run(_ argv: [String], as owner: ClusterOwner, log: String) async throws -> Int32 {
        let process = try prepare(argv, as: owner, log: log)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { finished in
                continuation.resume(returning: finished.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: SetupError("cannot run \(argv[0]): \(error)"))
            }
        }
    }

    /// Runs `argv` to completion, blocking this thread (for stopping from a signal handler); -1 when it cannot run.
    static func runBlocking(_ argv: [String], as owner: ClusterOwner, log: String) -> Int32 {
        guard let process = try? prepare(argv, as: owner, log: log), (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Starts `argv` and returns at once: for `postgres`, which runs until stopped.
    static func spawn(_ argv: [String], as owner: ClusterOwner, log: String) throws -> Process {
        let process = try prepare(argv, as: owner, log: log)
        do {
            try process.run()
        } catch {
            throw SetupError("cannot run \(argv[0]): \(error)")
        }
        return process
    }

    /// A `Process` for `argv` as `owner`, stdout and stderr appended to `log`, stdin empty.
    private static func prepare(_ argv: [String], as owner: ClusterOwner, log: String) throws -> Process {
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }
        guard let output = FileHandle(forWritingAtPath: log) else {
            throw SetupError("cannot write \(log)")
        }
        output.seekToEndOfFile()
        let (executable, arguments) = owner.command(argv)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        return process
    }
}
