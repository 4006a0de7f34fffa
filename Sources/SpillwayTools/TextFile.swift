import Foundation

/// Reading the end of a log file for a report.
enum TextFile {
    /// The last `count` lines of the file at `path`, or nothing when it cannot be read.
    static func lastLines(of path: String, count: Int) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(count).joined(separator: "\n")
    }
}
