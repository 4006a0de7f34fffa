import Foundation
import PostgresWire
import Testing

/// `spillway check` run as an operator runs it, against the test cluster (max_connections 100).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CheckCommandTests {
    /// Writes `spillway.ini` (the test database, then `[pgbouncer]` with `settings`) and a userlist holding the
    /// SCRAM role's secret into a new folder; returns the folder and the INI's path.
    static func writeConfig(
        database: String? = nil, settings: [String], userlist: [String]? = nil
    ) async throws -> (directory: String, path: String) {
        let cluster = try TestCluster.info()
        let directory = try makeTemporaryDirectory()
        let secret = try await TestCluster.storedSecret(TestCluster.scramUser)
        let lines = userlist ?? ["\"\(TestCluster.scramUser)\" \"\(secret)\""]
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: "\(directory)/userlist.txt", atomically: true, encoding: .utf8)
        let ini = ([
            "[databases]",
            database ?? "\(TestCluster.database) = host=127.0.0.1 port=\(cluster.port)",
            "[pgbouncer]",
            "auth_type = scram-sha-256",
            "auth_file = \(directory)/userlist.txt",
        ] + settings).joined(separator: "\n") + "\n"
        let path = "\(directory)/spillway.ini"
        try ini.write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path)
    }

    /// `spillway check PATH` as the SCRAM role.
    static func check(_ path: String, _ extra: [String] = []) async throws -> Shell.Result {
        try await Shell.run(
            CommandLineTests.binary,
            ["check", path, "--user", TestCluster.scramUser, "--password", TestCluster.scramPassword] + extra)
    }

    /// default_pool_size 200 with an explicit budget of 1000 on a server of 100 connections: exit 1, the row
    /// names the host and the verdict says by how much.
    @Test func poolsLargerThanTheServerExitOne() async throws {
        let port = try TestCluster.info().port
        let (directory, path) = try await Self.writeConfig(
            settings: ["default_pool_size = 200", "server_connection_budget = 1000"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Self.check(path)
        #expect(result.status == 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("| 127.0.0.1:\(port) "), "\(result.stdout)")
        #expect(result.stdout.contains("| 1000 (explicit) "), "\(result.stdout)")
        #expect(result.stdout.contains("| 205 "), "\(result.stdout)")
        #expect(result.stdout.contains("UNSAFE: 127.0.0.1:\(port): the worst case needs "), "\(result.stdout)")
    }

    /// default_pool_size 10 with the budget read from the server: exit 0 and the row is ok.
    @Test func modestPoolsWithAutoBudgetExitZero() async throws {
        let (directory, path) = try await Self.writeConfig(settings: ["default_pool_size = 10"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Self.check(path)
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("| 100 "), "max_connections: \(result.stdout)")
        #expect(result.stdout.contains("(auto)"), "\(result.stdout)")
        #expect(result.stdout.contains("| ok "), "\(result.stdout)")
        #expect(result.stdout.contains("Disabled safety bounds: none."), "\(result.stdout)")
        #expect(result.stdout.contains("\nSAFE: "), "\(result.stdout)")
    }

    /// Disabled bounds are listed but do not fail a configuration that fits.
    @Test func disabledBoundsAreWarningsOnly() async throws {
        let (directory, path) = try await Self.writeConfig(
            settings: ["default_pool_size = 10", "query_wait_timeout = 0", "idle_transaction_timeout = 0"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Self.check(path, ["--instances", "2"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("- idle_transaction_timeout = 0: "), "\(result.stdout)")
        #expect(result.stdout.contains("- query_wait_timeout = 0: "), "\(result.stdout)")
        #expect(result.stdout.contains("× 2 instances"), "\(result.stdout)")
    }

    /// A bad value: exit 2, stderr names file, line and setting, stdout stays empty.
    @Test func brokenConfigExitsTwoNamingFileAndLine() async throws {
        let (directory, path) = try await Self.writeConfig(settings: ["default_pool_size = lots"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Self.check(path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path):6: default_pool_size"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
    }

    /// A host nobody listens on cannot be verified: exit 1 with the connect error in its row.
    @Test func unreachableHostExitsOne() async throws {
        let (directory, path) = try await Self.writeConfig(
            database: "gone = host=127.0.0.1 port=1", settings: ["default_pool_size = 10"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Self.check(path)
        #expect(result.status == 1, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("| 127.0.0.1:1 "), "\(result.stdout)")
        #expect(result.stdout.contains("cannot verify: database gone as \(TestCluster.scramUser): could not connect"),
                "\(result.stdout)")
    }

    /// The md5 role with only its md5 hash in auth_file: the check cannot log in with a hash, says so and
    /// exits 1; with the real password through PGPASSWORD it logs in over md5.
    @Test func md5HashInAuthFileCannotLogTheCheckIn() async throws {
        let port = try TestCluster.info().port
        let hash = MD5Password.storedHash(user: "spillway_md5", password: "md5_pass")
        let (directory, path) = try await Self.writeConfig(
            database: "\(TestCluster.database) = host=127.0.0.1 port=\(port) user=spillway_md5",
            settings: ["default_pool_size = 10"], userlist: ["\"spillway_md5\" \"\(hash)\""])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let refused = try await Shell.run(CommandLineTests.binary, ["check", path])
        #expect(refused.status == 1, "stdout: \(refused.stdout)\nstderr: \(refused.stderr)")
        #expect(refused.stdout.contains("auth_file holds only an md5 hash for 'spillway_md5'"), "\(refused.stdout)")
        let accepted = try await Shell.run(
            CommandLineTests.binary, ["check", path], environment: ["PGPASSWORD": "md5_pass"])
        #expect(accepted.status == 0, "stdout: \(accepted.stdout)\nstderr: \(accepted.stderr)")
    }
}
