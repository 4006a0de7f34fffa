import Foundation
import Testing

/// The `spillway` executable started the way production runs it: as an unprivileged OS user. When the tests run
/// as root (CI does), the process is started through `setpriv` as `SPILLWAY_TEST_USER` (scripts/test creates
/// `spillway`), so a bug that only root survives fails here; otherwise it runs as the current user.
final class SpillwayProcess: @unchecked Sendable {
    /// The debug build of the executable, next to the test bundle.
    static var binary: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/spillway").path
    }

    /// The OS user Spillway runs as in tests, when the tests run as root.
    static var testUser: String {
        ProcessInfo.processInfo.environment["SPILLWAY_TEST_USER"] ?? "spillway"
    }

    /// uid and gid of `testUser`, or nil when the tests do not run as root (Spillway then runs as us).
    static func unprivilegedIdentity() throws -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        guard let entry = getpwnam(testUser) else {
            throw HarnessError("running as root, but the unprivileged user '\(testUser)' does not exist: run scripts/test")
        }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Makes `directory` and its files the test user's, so Spillway can read its configuration, write its log
    /// and create its Unix socket there.
    static func handOver(_ directory: String) throws {
        guard let identity = try unprivilegedIdentity() else { return }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for path in [directory] + files.map({ "\(directory)/\($0)" }) {
            guard chown(path, identity.uid, identity.gid) == 0 else {
                throw HarnessError("chown \(path) failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    let process = Process()
    /// Where the process's standard error goes.
    let stderrPath: String

    /// Starts `spillway run INI`; `asRoot` starts it as root itself (only the privilege tests do that).
    init(ini: String, stderrPath: String, asRoot: Bool = false) throws {
        self.stderrPath = stderrPath
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if !asRoot, let identity = try Self.unprivilegedIdentity() {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = [
                "--reuid=\(identity.uid)", "--regid=\(identity.gid)", "--init-groups", "--", Self.binary, "run", ini,
            ]
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["run", ini]
        }
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stderrPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(pid, number) }

    /// The effective uid of the running process, from /proc.
    func effectiveUID() -> uid_t? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return nil }
        let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
        return fields.count > 2 ? uid_t(fields[2]) : nil
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    func stop(grace: Duration = .seconds(10)) async {
        guard process.isRunning else { return }
        signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { signal(SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Reads a Spillway log file: the listening port, the metrics port, everything.
struct SpillwayLog {
    let path: String

    var text: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The port in the first `listening addr=HOST:PORT` line (or `metrics listening` with `metrics`).
    func port(metrics: Bool = false) -> Int? {
        for line in text.split(separator: "\n") {
            let isMetrics = line.contains("metrics listening")
            guard line.contains("listening"), isMetrics == metrics, let range = line.range(of: "addr=") else { continue }
            let address = line[range.upperBound...].prefix { !$0.isWhitespace && $0 != "," && $0 != "\"" }
            if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
                return port
            }
        }
        return nil
    }
}
