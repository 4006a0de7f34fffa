import Foundation
import Logging

/// A `LogHandler` that writes one JSON object per line.
///
/// Each record carries `"ts"` (RFC 3339 UTC with milliseconds), `"level"`,
/// `"logger"` (the label) and `"msg"`, followed by every metadata key merged
/// flat at the top level: the handler's metadata, then the metadata provider's,
/// then the call site's, with later sources winning. A metadata key that would
/// overwrite one of the reserved keys is written with a `meta_` prefix.
///
/// Output goes to a sink that receives one complete line, terminated by `"\n"`,
/// per call; the default sink writes it to standard error under a process-wide
/// lock, so lines from concurrent threads never interleave.
public struct JSONLogHandler: LogHandler {
    /// A destination for complete, newline-terminated JSON lines.
    public typealias Sink = @Sendable (String) -> Void

    /// The keys every record carries; metadata never overwrites them.
    static let reservedKeys: Set<String> = ["ts", "level", "logger", "msg"]

    /// The logger's label, written as `"logger"`.
    public let label: String
    /// The minimum level this handler is configured for.
    public var logLevel: Logger.Level = .info
    /// Metadata attached to every record from this handler.
    public var metadata: Logger.Metadata = [:]
    /// A provider of contextual metadata, consulted on every record.
    public var metadataProvider: Logger.MetadataProvider?

    private let sink: Sink

    /// Creates a handler writing to `sink` (standard error by default).
    public init(
        label: String,
        metadataProvider: Logger.MetadataProvider? = nil,
        sink: @escaping Sink = JSONLogHandler.standardErrorSink
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    /// Creates a handler writing to standard error, for `LoggingSystem.bootstrap`.
    public static func standardError(
        label: String,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> JSONLogHandler {
        JSONLogHandler(label: label, metadataProvider: metadataProvider)
    }

    /// A sink writing each line to standard error.
    public static let standardErrorSink: Sink = fileDescriptorSink(2)

    /// A sink writing each line to `fd`; lines are written whole under a
    /// process-wide lock so concurrent writers never interleave within a line.
    public static func fileDescriptorSink(_ fd: Int32) -> Sink {
        return { line in LineWriter.writeLine(line, to: fd) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let call = event.metadata {
            merged.merge(call) { _, new in new }
        }
        let line = Self.render(
            timestamp: Self.timestamp(),
            level: event.level,
            label: self.label,
            message: event.message.description,
            metadata: merged
        )
        self.sink(line)
    }

    /// Renders one record as a newline-terminated JSON line.
    static func render(
        timestamp: String,
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata
    ) -> String {
        var out = "{\"ts\":"
        JSONText.appendString(timestamp, to: &out)
        out += ",\"level\":"
        JSONText.appendString(level.rawValue, to: &out)
        out += ",\"logger\":"
        JSONText.appendString(label, to: &out)
        out += ",\"msg\":"
        JSONText.appendString(message, to: &out)
        for (key, value) in Self.outputFields(metadata) {
            out += ","
            JSONText.appendString(key, to: &out)
            out += ":"
            JSONText.appendValue(value, to: &out)
        }
        out += "}\n"
        return out
    }

    /// Metadata as sorted top-level fields, renaming keys that collide with
    /// reserved keys by prefixing `meta_` until the name is free.
    static func outputFields(_ metadata: Logger.Metadata) -> [(String, Logger.Metadata.Value)] {
        var fields: [(String, Logger.Metadata.Value)] = []
        var used = Self.reservedKeys.union(metadata.keys)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            var name = key
            if Self.reservedKeys.contains(key) {
                name = "meta_" + key
                while used.contains(name) { name = "meta_" + name }
                used.insert(name)
            }
            fields.append((name, value))
        }
        return fields
    }

    /// The current time as RFC 3339 UTC with milliseconds.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return formatTimestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec) / 1_000_000)
    }

    /// Formats a Unix time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func formatTimestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "1970-01-01T00:00:00.000Z" }
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let ms = Int32(clamping: min(max(milliseconds, 0), 999))
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(ms, 3))Z"
    }
}

extension JSONLogHandler {
    /// JSON text encoding of strings and metadata values.
    enum JSONText {
        /// Appends `string` as a quoted, escaped JSON string.
        static func appendString(_ string: String, to out: inout String) {
            out.append("\"")
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": out.append("\\\"")
                case "\\": out.append("\\\\")
                case "\n": out.append("\\n")
                case "\r": out.append("\\r")
                case "\t": out.append("\\t")
                case "\u{08}": out.append("\\b")
                case "\u{0C}": out.append("\\f")
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16, uppercase: true)
                        out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            out.append("\"")
        }

        /// Appends a metadata value as JSON: strings, arrays and objects (keys sorted).
        static func appendValue(_ value: Logger.Metadata.Value, to out: inout String) {
            switch value {
            case .string(let string):
                appendString(string, to: &out)
            case .stringConvertible(let convertible):
                appendString(convertible.description, to: &out)
            case .array(let elements):
                out.append("[")
                for (index, element) in elements.enumerated() {
                    if index > 0 { out.append(",") }
                    appendValue(element, to: &out)
                }
                out.append("]")
            case .dictionary(let dictionary):
                out.append("{")
                let entries = dictionary.sorted { $0.key < $1.key }
                for (index, entry) in entries.enumerated() {
                    if index > 0 { out.append(",") }
                    appendString(entry.key, to: &out)
                    out.append(":")
                    appendValue(entry.value, to: &out)
                }
                out.append("}")
            }
        }
    }

    /// Writes whole lines to file descriptors under one process-wide lock.
    public enum LineWriter {
        private static let lock = NSLock()

        /// Writes all of `line`'s UTF-8 bytes to `fd`, retrying short writes and
        /// `EINTR`, while holding the lock so no other line interleaves.
        public static func writeLine(_ line: String, to fd: Int32) {
            let bytes = Array(line.utf8)
            lock.lock()
            defer { lock.unlock() }
            bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let written = write(fd, base + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}
