import Testing

@testable import SpillwayCore

/// Parsing what operators type into the console, PgBouncer's syntax.
@Suite struct AdminCommandTests {
    /// Keywords are case-insensitive; trailing semicolons and quotes are accepted.
    @Test func parsesEveryCommand() throws {
        #expect(try AdminCommand.parse("show pools;") == .show("POOLS"))
        #expect(try AdminCommand.parse("PAUSE") == .pause(database: nil))
        #expect(try AdminCommand.parse("pause orders") == .pause(database: "orders"))
        #expect(try AdminCommand.parse("RESUME \"orders\"") == .resume(database: "orders"))
        #expect(try AdminCommand.parse("DISABLE orders") == .disable(database: "orders"))
        #expect(try AdminCommand.parse("ENABLE orders") == .enable(database: "orders"))
        #expect(try AdminCommand.parse("RECONNECT") == .reconnect(database: nil))
        #expect(try AdminCommand.parse("KILL orders") == .kill(database: "orders"))
        #expect(try AdminCommand.parse("KILL_CLIENT c17") == .killClient(id: "c17"))
        #expect(try AdminCommand.parse("suspend") == .suspend)
        #expect(try AdminCommand.parse("RELOAD;;") == .reload)
        #expect(try AdminCommand.parse("SHUTDOWN") == .shutdown(mode: .immediate))
        #expect(try AdminCommand.parse("shutdown wait_for_clients") == .shutdown(mode: .waitForClients))
        #expect(try AdminCommand.parse("SET default_pool_size = 30") == .set(key: "default_pool_size", value: "30"))
        #expect(try AdminCommand.parse("set server_reset_query to 'DISCARD ALL'") == .set(key: "server_reset_query", value: "DISCARD ALL"))
        #expect(try AdminCommand.parse("SET x = 'it''s'") == .set(key: "x", value: "it's"))
    }

    /// Only SHOW is read-only (stats_users).
    @Test func onlyShowIsReadOnly() throws {
        #expect(try AdminCommand.parse("SHOW STATS").isReadOnly)
        #expect(try !AdminCommand.parse("PAUSE").isReadOnly)
        #expect(try !AdminCommand.parse("SET a = b").isReadOnly)
    }

    /// Errors say what is wrong and what exists.
    @Test(arguments: ["", "FROB", "KILL", "SHOW", "SHUTDOWN NOW", "SUSPEND now", "SET nothing"])
    func rejectsMalformedCommands(text: String) {
        #expect(throws: AdminCommand.ParseError.self) { try AdminCommand.parse(text) }
    }

    /// An unknown word names the commands that exist.
    @Test func unknownCommandListsKnownOnes() {
        do {
            _ = try AdminCommand.parse("FROB now")
            Issue.record("parsed")
        } catch {
            #expect(error.message.contains("unknown command \"FROB\""))
            #expect(error.message.contains("SHOW, PAUSE"))
        }
    }
}
