import Foundation
import Logging
import Testing

@testable import SpillwayServer

/// Collects the lines a `JSONLogHandler` writes, for inspection in tests.
private final class JSONLogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    /// Every line written so far, in order.
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    /// Appends one line; used as the handler's sink.
    func append(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        storage.append(line)
    }
}

/// Tests for the JSON-lines log handler.
@Suite struct JSONLogHandlerTests {
    /// A logger writing into `captured`, at trace level.
    private func makeLogger(
        _ captured: JSONLogCapture,
        label: String = "spillway.test",
        provider: Logger.MetadataProvider? = nil
    ) -> Logger {
        var handler = JSONLogHandler(label: label, metadataProvider: provider) { captured.append($0) }
        handler.logLevel = .trace
        return Logger(label: label, factory: { _ in handler })
    }

    /// Parses the single captured line as a JSON object.
    private func onlyObject(_ captured: JSONLogCapture) throws -> [String: Any] {
        let lines = captured.lines
        try #require(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func lineParsesWithStandardFields() throws {
        let captured = JSONLogCapture()
        makeLogger(captured).info("pool ready")
        let object = try onlyObject(captured)
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "spillway.test")
        #expect(object["msg"] as? String == "pool ready")
        let ts = try #require(object["ts"] as? String)
        let pattern = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/#
        #expect(ts.wholeMatch(of: pattern) != nil)
        #expect(Set(object.keys) == ["ts", "level", "logger", "msg"])
    }

    @Test func timestampFormatting() {
        #expect(JSONLogHandler.formatTimestamp(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(
            JSONLogHandler.formatTimestamp(seconds: 1_795_741_323, milliseconds: 456)
                == "2026-11-27T01:02:03.456Z"
        )
    }

    @Test func escapesQuotesNewlinesAndControlCharacters() throws {
        let captured = JSONLogCapture()
        let message = "say \"hi\"\\ \n\tend\u{01}\u{1F}"
        makeLogger(captured).warning("\(message)")
        let raw = try #require(captured.lines.first)
        #expect(raw.contains(#"say \"hi\"\\ \n\tend\u0001\u001F"#))
        let object = try onlyObject(captured)
        #expect(object["msg"] as? String == message)
        #expect(object["level"] as? String == "warning")
    }

    @Test func nestedMetadataBecomesJSON() throws {
        let captured = JSONLogCapture()
        makeLogger(captured).info(
            "nested",
            metadata: [
                "db": "app",
                "port": .stringConvertible(6432),
                "hosts": ["a", "b"],
                "pool": ["size": "20", "modes": ["tx", ["deep": "yes"]]],
            ]
        )
        let object = try onlyObject(captured)
        #expect(object["db"] as? String == "app")
        #expect(object["port"] as? String == "6432")
        #expect(object["hosts"] as? [String] == ["a", "b"])
        let pool = try #require(object["pool"] as? [String: Any])
        #expect(pool["size"] as? String == "20")
        let modes = try #require(pool["modes"] as? [Any])
        #expect(modes.first as? String == "tx")
        #expect((modes.last as? [String: Any])?["deep"] as? String == "yes")
    }

    @Test func metadataMergeOrderLaterWins() throws {
        let captured = JSONLogCapture()
        let provider = Logger.MetadataProvider { ["source": "provider", "p": "1"] }
        var logger = makeLogger(captured, provider: provider)
        logger[metadataKey: "source"] = "handler"
        logger[metadataKey: "h"] = "1"
        logger.info("merge", metadata: ["c": "1"])
        var object = try onlyObject(captured)
        #expect(object["source"] as? String == "provider")
        #expect(object["h"] as? String == "1")
        #expect(object["p"] as? String == "1")
        #expect(object["c"] as? String == "1")

        let again = JSONLogCapture()
        var second = makeLogger(again, provider: provider)
        second[metadataKey: "source"] = "handler"
        second.info("merge", metadata: ["source": "call"])
        object = try onlyObject(again)
        #expect(object["source"] as? String == "call")
    }

    @Test func reservedKeysAreNotOverwritten() throws {
        let captured = JSONLogCapture()
        makeLogger(captured).error(
            "real message",
            metadata: ["msg": "fake", "level": "fake", "ts": "fake", "logger": "fake", "meta_msg": "taken"]
        )
        let raw = try #require(captured.lines.first)
        #expect(raw.components(separatedBy: "\"msg\":").count == 2)
        let object = try onlyObject(captured)
        #expect(object["msg"] as? String == "real message")
        #expect(object["level"] as? String == "error")
        #expect(object["logger"] as? String == "spillway.test")
        #expect(object["ts"] as? String != "fake")
        #expect(object["meta_level"] as? String == "fake")
        #expect(object["meta_ts"] as? String == "fake")
        #expect(object["meta_logger"] as? String == "fake")
        #expect(object["meta_msg"] as? String == "taken")
        #expect(object["meta_meta_msg"] as? String == "fake")
    }

    @Test func logLevelIsHonoured() {
        let captured = JSONLogCapture()
        var handler = JSONLogHandler(label: "lvl") { captured.append($0) }
        handler.logLevel = .warning
        let logger = Logger(label: "lvl", factory: { _ in handler })
        logger.info("dropped")
        logger.warning("kept")
        #expect(captured.lines.count == 1)
    }

    @Test func fileDescriptorSinkWritesWholeLinesConcurrently() async throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let readEnd = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let writeFD = fds[1]
        var handler = JSONLogHandler(label: "fd", sink: JSONLogHandler.fileDescriptorSink(writeFD))
        handler.logLevel = .info
        let logger = Logger(label: "fd", factory: { _ in handler })
        let payload = String(repeating: "x", count: 8_000)
        let reader = Task.detached { readEnd.readDataToEndOfFile() }
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in 0..<25 { logger.info("\(payload)", metadata: ["w": "\(worker)", "i": "\(index)"]) }
                }
            }
        }
        close(writeFD)
        let data = await reader.value
        let text = try #require(String(data: data, encoding: .utf8))
        let lines = text.split(separator: "\n")
        #expect(lines.count == 100)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["msg"] as? String == payload)
        }
    }
}
