import Foundation
import Logging

/// A `LogHandler` writing one line of text per event: time, level, label, message, then the metadata as
/// `key=value` pairs, sorted: `2026-12-03T10:37:59.123Z info spillway: client closed age_s=3 client=c17`.
/// Lines go to a sink, like `JSONLogHandler`'s, so one `LogOutput` can fan them out.
public struct TextLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let sink: JSONLogHandler.Sink

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, sink: @escaping JSONLogHandler.Sink) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let call = event.metadata { merged.merge(call) { _, new in new } }
        sink(Self.render(level: event.level, label: label, message: event.message.description, metadata: merged))
    }

    /// One newline-terminated line.
    static func render(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = JSONLogHandler.timestamp() + " " + level.rawValue + " " + label + ": " + message
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        return line + "\n"
    }
}
