import Testing

@testable import SpillwayTools

@Suite struct PostgresURLTests {
    /// Every part is read; user and password are percent-decoded.
    @Test func readsEveryPart() throws {
        let configuration = try PostgresURL.parse("postgres://ad%40min:p%3Ass@db.example:6543/orders")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.user == "ad@min")
        #expect(configuration.password == "p:ss")
        #expect(configuration.database == "orders")
    }

    /// The port defaults to 5432 and the database to the user, as in libpq.
    @Test func defaultsPortAndDatabase() throws {
        let configuration = try PostgresURL.parse("postgresql://postgres@127.0.0.1")
        #expect(configuration.port == 5432)
        #expect(configuration.database == "postgres")
        #expect(configuration.password == nil)
    }

    /// Another scheme, no host, or TLS settings are refused, and the message never shows the password.
    @Test func refusesWhatItCannotUse() {
        #expect(throws: SetupError.self) { try PostgresURL.parse("mysql://root:secret@localhost/db") }
        #expect(throws: SetupError.self) { try PostgresURL.parse("postgres:///db") }
        #expect(throws: SetupError.self) { try PostgresURL.parse("postgres://u:secret@h/db?sslmode=require") }
        do {
            _ = try PostgresURL.parse("postgres://u:secret@/db")
            Issue.record("no host was accepted")
        } catch {
            #expect(!"\(error)".contains("secret"))
        }
    }
}
