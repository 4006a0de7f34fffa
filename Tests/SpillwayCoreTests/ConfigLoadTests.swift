import Foundation
import Testing

@testable import SpillwayCore

/// A fresh temporary folder, removed when the test's `defer` runs `remove()`.
private struct TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "spillway-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` inside the folder and returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

@Suite struct ConfigLoadTests {
    /// `%include` splices another file in place, relative to the including file; included lines keep their
    /// own file name and line numbers in diagnostics.
    @Test func includeSplicesFileInPlace() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("conf.d/databases.ini", "orders = host=10.0.0.5\nmystery = dbname=m\n")
        let main = try folder.write(
            "pgbouncer.ini",
            """
            [pgbouncer]
            listen_port = 7000
            [databases]
            %include conf.d/databases.ini
            reports = host=10.0.0.6
            [pgbouncer]
            %include "conf.d/more.ini"
            """)
        try folder.write("conf.d/more.ini", "default_pool_size = 7\nunknown_knob = 1\n")

        let config = try Config.load(path: main)
        #expect(config.path == main)
        #expect(config.settings.listenPort == 7000)
        #expect(config.settings.defaultPoolSize == 7)
        #expect(config.databases.keys.sorted() == ["mystery", "orders", "reports"])
        #expect(
            config.warnings.map(\.description) == [
                "\(folder.path)/conf.d/more.ini:2: unknown setting 'unknown_knob' ignored"
            ])
    }

    /// An error inside an included file names that file and its line.
    @Test func errorInIncludedFileNamesThatFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("bad.ini", "\npool_mode = sessoin\n")
        let main = try folder.write("pgbouncer.ini", "[pgbouncer]\n%include bad.ini\n")
        #expect(
            throws: ConfigError(
                file: "\(folder.path)/bad.ini", line: 2, key: "pool_mode",
                message: "pool_mode: expected one of session, transaction, statement, got 'sessoin'")
        ) {
            try Config.load(path: main)
        }
    }

    /// A missing include, an include loop and a missing config file are errors.
    @Test func missingIncludeLoopAndMissingFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let missing = try folder.write("missing.ini", "[pgbouncer]\n%include nowhere.ini\n")
        #expect(throws: ConfigError(file: missing, line: 2, message: "%include: no such file 'nowhere.ini'")) {
            try Config.load(path: missing)
        }
        let loop = try folder.write("loop.ini", "%include loop.ini\n")
        do {
            _ = try Config.load(path: loop)
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description.hasSuffix(
                    "loop.ini:1: %include nested more than 16 levels deep; do the files include each other?"))
        }
        #expect(throws: ConfigError(file: folder.path + "/none.ini", line: 0, message: "no such file")) {
            try Config.load(path: folder.path + "/none.ini")
        }
        #expect(ConfigError(file: "none.ini", line: 0, message: "no such file").description == "none.ini: no such file")
    }

    /// A relative `auth_file` that does not exist from the working directory is read from the config's folder;
    /// absolute paths stay as written.
    @Test func relativeAuthFileResolvesAgainstConfigFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("users/list.txt", "\"app\" \"secret\"\n")
        let relative = try folder.write(
            "relative.ini", "[pgbouncer]\nauth_file = users/list.txt-\(UUID().uuidString)\n")
        let resolved = try Config.load(path: relative).settings.authFile
        #expect(resolved?.hasPrefix(folder.path + "/users/list.txt-") == true)

        let named = try folder.write("named.ini", "[pgbouncer]\nauth_file = users/list.txt\n")
        let authFile = try #require(try Config.load(path: named).settings.authFile)
        #expect(authFile == folder.path + "/users/list.txt")
        #expect(try UserList.load(path: authFile).passwords == ["app": "secret"])

        let absolute = try folder.write("absolute.ini", "[pgbouncer]\nauth_file = /etc/pgbouncer/userlist.txt\n")
        #expect(try Config.load(path: absolute).settings.authFile == "/etc/pgbouncer/userlist.txt")
    }

    /// A UTF-8 byte-order mark at the start of a file is ignored.
    @Test func byteOrderMarkIsIgnored() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let ini = try folder.write("bom.ini", "\u{FEFF}[pgbouncer]\nlisten_port = 7002\n")
        #expect(try Config.load(path: ini).settings.listenPort == 7002)
        let users = try folder.write("bom.txt", "\u{FEFF}\"a\" \"b\"\n")
        #expect(try UserList.load(path: users).passwords == ["a": "b"])
    }

    /// `UserList.load` reports the file's path and line.
    @Test func userListLoadReportsPath() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = try folder.write("userlist.txt", "\"a\" \"b\"\nbroken\n")
        #expect(throws: ConfigError(file: path, line: 2, message: #"expected "user" "password""#)) {
            try UserList.load(path: path)
        }
    }
}
