import Testing

@testable import SpillwayCore

@Suite struct TrackedParametersTests {
    /// Client and server agree on every value: nothing to set.
    @Test func setStatementIsNilWhenValuesMatch() {
        let client = TrackedParameters([("client_encoding", "UTF8"), ("TimeZone", "UTC")])
        let server = TrackedParameters([("client_encoding", "UTF8"), ("TimeZone", "UTC"), ("DateStyle", "ISO, MDY")])
        #expect(client.setStatement(toMatch: server) == nil)
    }

    /// Only the values that differ are set, with PostgreSQL's spelling, in table order.
    @Test func setStatementSetsOnlyDifferingValues() {
        let client = TrackedParameters([
            ("application_name", "nightly"), ("TimeZone", "Europe/Berlin"), ("client_encoding", "UTF8"),
        ])
        let server = TrackedParameters([
            ("application_name", "psql"), ("TimeZone", "UTC"), ("client_encoding", "UTF8"),
        ])
        #expect(
            client.setStatement(toMatch: server)
                == "SET TimeZone = 'Europe/Berlin'; SET application_name = 'nightly';")
    }

    /// A value the client never chose is left as the server has it; one the server never reported is set.
    @Test func setStatementComparesOnlyClientsValues() {
        let client = TrackedParameters([("DateStyle", "ISO, DMY")])
        let server = TrackedParameters([("TimeZone", "UTC")])
        #expect(client.setStatement(toMatch: server) == "SET DateStyle = 'ISO, DMY';")
        #expect(TrackedParameters().setStatement(toMatch: server) == nil)
    }

    /// Single quotes are doubled.
    @Test func quoteLiteralDoublesSingleQuotes() {
        #expect(TrackedParameters.quoteLiteral("O'Brien's app") == "'O''Brien''s app'")
        #expect(TrackedParameters.quoteLiteral("") == "''")
    }

    /// A backslash switches to an E'' literal with the backslash doubled, so the value survives whatever
    /// standard_conforming_strings says.
    @Test func quoteLiteralEscapesBackslashInEStringLiteral() {
        #expect(TrackedParameters.quoteLiteral(#"C:\tmp"#) == #"E'C:\\tmp'"#)
        #expect(TrackedParameters.quoteLiteral(#"it's \ here"#) == #"E'it''s \\ here'"#)
        #expect(TrackedParameters.quoteLiteral(#"'\'"#) == #"E'''\\'''"#)
    }

    /// A quote in a client's value cannot end the literal and smuggle in a statement.
    @Test func setStatementQuotesValues() {
        let client = TrackedParameters([("application_name", "x'; DROP TABLE orders; --")])
        #expect(
            client.setStatement(toMatch: TrackedParameters())
                == "SET application_name = 'x''; DROP TABLE orders; --';")
    }

    /// Names are matched in any case and stored lower-cased; reading works in any case.
    @Test func namesAreCaseInsensitive() {
        var parameters = TrackedParameters()
        let recorded = parameters.set("DATESTYLE", "ISO, MDY")
        #expect(recorded)
        #expect(parameters["DateStyle"] == "ISO, MDY")
        #expect(parameters["datestyle"] == "ISO, MDY")
        #expect(parameters.values == ["datestyle": "ISO, MDY"])
        let replaced = parameters.set("datestyle", "German")
        #expect(replaced)
        #expect(parameters["DATESTYLE"] == "German")
        #expect(TrackedParameters.isTracked("TimeZone"))
        #expect(TrackedParameters.isTracked("INTERVALSTYLE"))
    }

    /// The same value given in different case of the name compares equal: nothing to set.
    @Test func differentlySpelledNamesCompareEqual() {
        let client = TrackedParameters([("timezone", "UTC")])
        let server = TrackedParameters([("TimeZone", "UTC")])
        #expect(client == server)
        #expect(client.setStatement(toMatch: server) == nil)
    }

    /// Names Spillway does not carry between servers are ignored.
    @Test func untrackedNamesAreIgnored() {
        var parameters = TrackedParameters()
        let searchPath = parameters.set("search_path", "reports")
        let serverVersion = parameters.set("server_version", "16.4")
        #expect(!searchPath)
        #expect(!serverVersion)
        #expect(parameters.values.isEmpty)
        #expect(parameters["search_path"] == nil)
        #expect(!TrackedParameters.isTracked("search_path"))
        let fromStartup = TrackedParameters([("search_path", "reports"), ("application_name", "nightly")])
        #expect(fromStartup.values == ["application_name": "nightly"])
    }

    /// Every tracked name is set with PostgreSQL's spelling.
    @Test func everyTrackedNameUsesPostgreSQLSpelling() {
        let client = TrackedParameters(TrackedParameters.names.map { ($0.key.uppercased(), "v") })
        #expect(
            client.setStatement(toMatch: TrackedParameters())
                == "SET client_encoding = 'v'; SET DateStyle = 'v'; SET TimeZone = 'v'; SET IntervalStyle = 'v'; "
                + "SET standard_conforming_strings = 'v'; SET application_name = 'v';")
    }
}
