import Testing

@testable import SpillwayCore
@testable import SpillwayTools

@Suite struct DrillSpillwayConfigurationTests {
    /// The drill's INI changes nothing but what connecting needs and pool_mode: every other setting keeps
    /// Spillway's default, so the drill measures what users get out of the box.
    @Test func onlyConnectionSettingsAndPoolModeDifferFromDefaults() throws {
        let target = WireClient.Configuration(
            host: "127.0.0.1", port: 25432, user: "postgres", password: "x", database: "spillway_drill")
        let text = DrillSpillway.configurationText(target: target, authFile: "/tmp/drill/userlist.txt")
        let config = try Config.parse(text, file: "drill.ini")

        var expected = Settings()
        expected.listenAddr = ["127.0.0.1"]
        expected.listenPort = 0
        expected.unixSocketDir = ""
        expected.authType = .md5
        expected.authFile = "/tmp/drill/userlist.txt"
        expected.adminUsers = ["drill_oncall"]
        expected.poolMode = .transaction
        #expect(config.settings == expected)
        #expect(config.database(named: "drill")?.port == 25432)
        #expect(config.database(named: "drill")?.dbname == "spillway_drill")
    }
}
