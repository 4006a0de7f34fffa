import Foundation
import Logging
import SpillwayCore

@testable import SpillwayServer

/// An engine data plane for driver-level tests: a scripted PostgreSQL behind it, a temp folder for its Unix
/// socket and auth_file, md5 logins with the passwords given. SPILLWAY_TEST_TRACE=1 logs the plane's trace.
final class PlaneHarness {
    let postgres: ScriptedPostgresServer
    let folder: String

    init() throws {
        postgres = try ScriptedPostgresServer()
        folder = NSTemporaryDirectory() + "spillway-harness-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    deinit {
        postgres.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A plane with `ini` added to [pgbouncer]; md5 with `passwords` in its auth_file (trust when empty).
    /// `databases`: extra [databases] lines.
    func start(
        _ ini: String = "", passwords: [String: String] = [:], databases: [String] = [], threads: Int = 2
    ) throws -> DataPlane {
        var auth = "auth_type = trust"
        if !passwords.isEmpty {
            let path = "\(folder)/userlist.txt"
            try passwords.map { "\"\($0.key)\" \"\($0.value)\"" }.joined(separator: "\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            auth = "auth_type = md5\nauth_file = \(path)"
        }
        let text = """
            [databases]
            app = host=\(postgres.folder) port=\(postgres.port) dbname=app
            \(databases.joined(separator: "\n"))
            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = 0
            unix_socket_dir = \(folder)
            \(auth)
            pool_mode = transaction
            threads = \(threads)
            \(ini)
            """
        var logger = Logger(label: "test")
        if ProcessInfo.processInfo.environment["SPILLWAY_TEST_TRACE"] != nil { logger.logLevel = .trace }
        return try DataPlane.start(config: try Config.parse(text, file: "test.ini"), logger: logger)
    }

    func client(_ plane: DataPlane) throws -> BlockingWireClient {
        try BlockingWireClient(path: plane.unixSocketPath!)
    }
}
