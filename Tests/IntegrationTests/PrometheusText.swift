import Foundation

/// A strict parser for the Prometheus text exposition format 0.0.4, for tests.
///
/// Parsing throws a `ParseError` (line number and text) on any malformed line,
/// a `# TYPE` line that is repeated or follows its metric's samples, a
/// duplicate series, samples of one family that are not grouped together, or a
/// histogram `_bucket` without a numeric `le` label. `validateConventions()`
/// adds the naming and histogram-consistency checks that are not syntax.
struct PrometheusText {
    /// One sample line: metric name, labels, value and optional timestamp.
    struct Sample: Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
        let timestamp: Int64?
    }

    /// A malformed line of exposition text.
    struct ParseError: Error, CustomStringConvertible {
        /// The 1-based line number.
        let line: Int
        /// The offending line as given.
        let text: String
        /// What is wrong with it.
        let reason: String

        var description: String { "Prometheus text line \(line): \(reason): \(text)" }
    }

    /// Convention violations found by `validateConventions()`.
    struct ConventionError: Error, CustomStringConvertible {
        let violations: [String]

        var description: String { "Prometheus conventions violated:\n" + violations.joined(separator: "\n") }
    }

    /// The metric types a `# TYPE` line may declare.
    static let metricTypes: Set<String> = ["counter", "gauge", "histogram", "summary", "untyped"]

    /// Every sample, in the order given.
    private(set) var samples: [Sample] = []
    /// Metric type per name, from `# TYPE` lines.
    private(set) var types: [String: String] = [:]
    /// Unescaped help text per name, from `# HELP` lines.
    private(set) var helps: [String: String] = [:]

    /// Parses `text`, throwing `ParseError` at the first malformed line.
    init(parsing text: String) throws {
        var seenNames: Set<String> = []
        var seenSeries: Set<String> = []
        var closedFamilies: Set<String> = []
        var currentFamily: String?
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let line = String(decoding: rawLine, as: UTF8.self)
            func fail(_ reason: String) -> ParseError { ParseError(line: index + 1, text: line, reason: reason) }
            var scanner = Scanner(line)
            scanner.skipBlanks()
            if scanner.atEnd { continue }
            if scanner.peek == UInt8(ascii: "#") {
                try parseComment(&scanner, seenNames: seenNames, fail: fail)
                continue
            }
            let sample = try Self.parseSample(&scanner, fail: fail)
            let family = try Self.checkFamily(of: sample, types: types, fail: fail)
            if family != currentFamily {
                if closedFamilies.contains(family) { throw fail("samples of \(family) are not grouped together") }
                if let currentFamily { closedFamilies.insert(currentFamily) }
                currentFamily = family
            }
            guard seenSeries.insert(Self.seriesKey(sample.name, sample.labels)).inserted else {
                throw fail("duplicate sample for the same name and labels")
            }
            seenNames.insert(sample.name)
            samples.append(sample)
        }
    }

    /// Samples named `name` whose labels include every pair in `labels`.
    func samples(_ name: String, labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }

    /// The value of the first sample named `name` whose labels include all of `labels`.
    func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        samples(name, labels: labels).first?.value
    }

    /// The sum of the values of all samples named `name` whose labels include all of `labels`.
    func sum(_ name: String, labels: [String: String] = [:]) -> Double {
        samples(name, labels: labels).reduce(0) { $0 + $1.value }
    }
}

// MARK: - Line parsing

extension PrometheusText {
    /// Parses a `#` line: `# HELP`, `# TYPE`, or an ignored comment.
    private mutating func parseComment(
        _ scanner: inout Scanner, seenNames: Set<String>, fail: (String) -> ParseError
    ) throws {
        scanner.advance()
        scanner.skipBlanks()
        let keyword = scanner.readToken()
        guard keyword == "HELP" || keyword == "TYPE" else { return }
        scanner.skipBlanks()
        let name = scanner.readToken()
        guard Self.isMetricName(name) else { throw fail("invalid metric name '\(name)' in # \(keyword)") }
        if keyword == "HELP" {
            guard helps[name] == nil else { throw fail("second # HELP for \(name)") }
            scanner.skipBlanks()
            guard let help = scanner.readHelp() else { throw fail("invalid escape in help text") }
            helps[name] = help
            return
        }
        scanner.skipBlanks()
        let type = scanner.readToken()
        scanner.skipBlanks()
        guard Self.metricTypes.contains(type), scanner.atEnd else {
            throw fail("# TYPE needs one of \(Self.metricTypes.sorted().joined(separator: "|"))")
        }
        guard types[name] == nil else { throw fail("second # TYPE for \(name)") }
        let owned = Self.sampleNames(of: name, type: type)
        if let early = owned.first(where: seenNames.contains) {
            throw fail("# TYPE for \(name) after its sample \(early)")
        }
        types[name] = type
    }

    /// Parses `name{labels} value [timestamp]`.
    private static func parseSample(_ scanner: inout Scanner, fail: (String) -> ParseError) throws -> Sample {
        let name = scanner.readName(first: isMetricStart, rest: isMetricChar)
        guard !name.isEmpty else { throw fail("invalid metric name") }
        var labels: [String: String] = [:]
        if scanner.peek == UInt8(ascii: "{") {
            scanner.advance()
            while true {
                scanner.skipBlanks()
                if scanner.peek == UInt8(ascii: "}") { scanner.advance(); break }
                let label = scanner.readName(first: isLabelStart, rest: isLabelChar)
                guard !label.isEmpty else { throw fail("invalid label name") }
                scanner.skipBlanks()
                guard scanner.consume(UInt8(ascii: "=")) else { throw fail("expected '=' after label \(label)") }
                scanner.skipBlanks()
                guard scanner.consume(UInt8(ascii: "\"")) else { throw fail("label value of \(label) must be quoted") }
                guard let value = scanner.readQuoted() else {
                    throw fail("bad escape or unterminated value for \(label)")
                }
                guard labels.updateValue(value, forKey: label) == nil else { throw fail("duplicate label \(label)") }
                scanner.skipBlanks()
                if scanner.consume(UInt8(ascii: ",")) { continue }
                guard scanner.consume(UInt8(ascii: "}")) else { throw fail("expected ',' or '}' after label \(label)") }
                break
            }
        } else if scanner.atEnd {
            throw fail("missing sample value")
        } else if !scanner.isBlank {
            throw fail("invalid character after metric name")
        }
        scanner.skipBlanks()
        let valueText = scanner.readToken()
        guard let value = parseFloat(valueText) else {
            throw fail("invalid sample value \(valueText.debugDescription)")
        }
        scanner.skipBlanks()
        var timestamp: Int64?
        if !scanner.atEnd {
            let text = scanner.readToken()
            guard let parsed = Int64(text) else { throw fail("invalid timestamp \(text.debugDescription)") }
            timestamp = parsed
            scanner.skipBlanks()
            guard scanner.atEnd else { throw fail("unexpected text after timestamp") }
        }
        return Sample(name: name, labels: labels, value: value, timestamp: timestamp)
    }

    /// The family a sample belongs to, checking histogram/summary label rules.
    private static func checkFamily(
        of sample: Sample, types: [String: String], fail: (String) -> ParseError
    ) throws -> String {
        guard let (family, type) = resolve(sample.name, types: types) else { return sample.name }
        if type == "histogram" {
            if sample.name == family { throw fail("histogram \(family) samples need _bucket, _sum or _count") }
            if sample.name == family + "_bucket", parseFloat(sample.labels["le"] ?? "") == nil {
                throw fail("histogram bucket needs a numeric le label")
            }
        }
        if type == "summary", sample.name == family, parseFloat(sample.labels["quantile"] ?? "") == nil {
            throw fail("summary sample needs a numeric quantile label")
        }
        return family
    }
}

// MARK: - Names, values and conventions

extension PrometheusText {
    /// The TYPE'd family and type a sample name belongs to, if any.
    static func resolve(_ name: String, types: [String: String]) -> (family: String, type: String)? {
        if let type = types[name] { return (name, type) }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            guard let type = types[base] else { continue }
            if type == "histogram" || (type == "summary" && suffix != "_bucket") { return (base, type) }
        }
        return nil
    }

    /// The sample names a family of `type` named `name` owns.
    static func sampleNames(of name: String, type: String) -> [String] {
        switch type {
        case "histogram": return [name + "_bucket", name + "_sum", name + "_count"]
        case "summary": return [name, name + "_sum", name + "_count"]
        default: return [name]
        }
    }

    /// Parses a sample value: decimal floats, `+Inf`, `-Inf`, `NaN` (case-insensitive, as Go does).
    static func parseFloat(_ text: String) -> Double? {
        switch text.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    static func isMetricStart(_ byte: UInt8) -> Bool { isLabelStart(byte) || byte == UInt8(ascii: ":") }
    static func isMetricChar(_ byte: UInt8) -> Bool { isLabelChar(byte) || byte == UInt8(ascii: ":") }
    static func isLabelStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
    }
    static func isLabelChar(_ byte: UInt8) -> Bool { isLabelStart(byte) || (byte >= 0x30 && byte <= 0x39) }

    /// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isMetricStart(first) else { return false }
        return name.utf8.allSatisfy(isMetricChar)
    }

    /// A key identifying one series: name plus its sorted labels.
    static func seriesKey(_ name: String, _ labels: [String: String]) -> String {
        ([name] + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: "\u{0}")
    }

    /// `name{a="1",b="2"}` with labels sorted, for messages.
    static func describe(_ name: String, _ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return name }
        let pairs = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }
        return name + "{" + pairs.joined(separator: ",") + "}"
    }

    /// Checks that every sample's family has a `# TYPE`, counter samples end in
    /// `_total`, and each histogram series has non-decreasing `le` bounds and
    /// cumulative counts, ending in a `+Inf` bucket equal to its `_count`.
    func validateConventions() throws {
        var violations: [String] = []
        var reported: Set<String> = []
        func report(_ message: String) { if reported.insert(message).inserted { violations.append(message) } }
        var bucketSeries: [String: [Sample]] = [:]
        var seriesOrder: [String] = []
        for sample in samples {
            guard let (family, type) = Self.resolve(sample.name, types: types) else {
                report("\(sample.name): no # TYPE line for its family")
                continue
            }
            if type == "counter", !sample.name.hasSuffix("_total") {
                report("\(sample.name): counter sample name should end in _total")
            }
            if type == "histogram", sample.name == family + "_bucket" {
                let key = Self.seriesKey(family, sample.labels.filter { $0.key != "le" })
                if bucketSeries[key] == nil { seriesOrder.append(key) }
                bucketSeries[key, default: []].append(sample)
            }
        }
        for key in seriesOrder {
            guard let buckets = bucketSeries[key], let first = buckets.first else { continue }
            let family = String(first.name.dropLast("_bucket".count))
            let labels = first.labels.filter { $0.key != "le" }
            let series = Self.describe(family, labels)
            var lastBound = -Double.infinity
            var lastCount = 0.0
            for bucket in buckets {
                let bound = Self.parseFloat(bucket.labels["le"] ?? "") ?? .nan
                if !(bound >= lastBound) { report("\(series): le \(bound) after \(lastBound)") }
                if !(bucket.value >= lastCount) { report("\(series): bucket count decreases at le \(bound)") }
                lastBound = bound
                lastCount = bucket.value
            }
            let count = samples.first { $0.name == family + "_count" && $0.labels == labels }
            if lastBound != .infinity {
                report("\(series): last bucket is not le=\"+Inf\"")
            } else if let count, count.value != lastCount {
                report("\(series): +Inf bucket \(lastCount) differs from _count \(count.value)")
            }
            if count == nil { report("\(series): no _count sample") }
        }
        if !violations.isEmpty { throw ConventionError(violations: violations) }
    }
}

// MARK: - Scanner

extension PrometheusText {
    /// A byte cursor over one line.
    struct Scanner {
        private let bytes: [UInt8]
        private var position = 0

        init(_ line: String) { bytes = Array(line.utf8) }

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[position] }
        /// Whether the next byte is a blank (space or tab).
        var isBlank: Bool { peek == UInt8(ascii: " ") || peek == UInt8(ascii: "\t") }

        mutating func advance() { position += 1 }
        mutating func skipBlanks() { while isBlank { advance() } }

        /// Consumes `byte` if it is next.
        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            advance()
            return true
        }

        /// Reads a run of non-blank bytes.
        mutating func readToken() -> String {
            let start = position
            while !atEnd && !isBlank { advance() }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// Reads a name: one `first` byte then `rest` bytes; empty if none.
        mutating func readName(first: (UInt8) -> Bool, rest: (UInt8) -> Bool) -> String {
            guard let byte = peek, first(byte) else { return "" }
            let start = position
            advance()
            while let byte = peek, rest(byte) { advance() }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// Reads a label value after its opening quote, through the closing
        /// quote; only `\\`, `\"` and `\n` escapes are allowed. Nil if malformed.
        mutating func readQuoted() -> String? {
            var value: [UInt8] = []
            while let byte = peek {
                advance()
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: value, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = peek else { return nil }
                    advance()
                    switch escaped {
                    case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(escaped)
                    case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                    default: return nil
                    }
                default: value.append(byte)
                }
            }
            return nil
        }

        /// Reads the rest of the line as help text; only `\\` and `\n` escapes
        /// are allowed. Nil if malformed.
        mutating func readHelp() -> String? {
            var text: [UInt8] = []
            while let byte = peek {
                advance()
                guard byte == UInt8(ascii: "\\") else { text.append(byte); continue }
                switch peek {
                case UInt8(ascii: "\\"): text.append(byte)
                case UInt8(ascii: "n"): text.append(UInt8(ascii: "\n"))
                default: return nil
                }
                advance()
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
