import Foundation
import Testing

@testable import SpillwayCore

@Suite struct ConfigDocsTests {
    /// docs/configuration.md, found from this file: Tests/SpillwayCoreTests/ → repository root.
    static let docPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/configuration.md").path

    /// docs/configuration.md documents every setting and parameter in the tables, exactly as generated.
    /// Run with SPILLWAY_UPDATE_DOCS=1 to rewrite the generated part.
    @Test func configurationDocMatchesSettingsTable() throws {
        var doc = try String(contentsOfFile: Self.docPath, encoding: .utf8)
        let begin = try #require(doc.range(of: ConfigReference.beginMarker), "begin marker missing")
        let end = try #require(doc.range(of: ConfigReference.endMarker), "end marker missing")
        let generated = ConfigReference.markdown()
        if ProcessInfo.processInfo.environment["SPILLWAY_UPDATE_DOCS"] == "1" {
            doc.replaceSubrange(begin.upperBound..<end.lowerBound, with: generated)
            try doc.write(toFile: Self.docPath, atomically: true, encoding: .utf8)
            return
        }
        for definition in SettingsTable.all {
            #expect(doc.contains("| `\(definition.name)` |"), "docs/configuration.md lacks \(definition.name)")
        }
        for parameter in DatabaseConfig.parameters {
            #expect(doc.contains("| `\(parameter.name)` |"), "docs/configuration.md lacks \(parameter.name)")
        }
        #expect(
            String(doc[begin.upperBound..<end.lowerBound]) == generated,
            "docs/configuration.md is out of date; run the tests with SPILLWAY_UPDATE_DOCS=1")
    }
}
