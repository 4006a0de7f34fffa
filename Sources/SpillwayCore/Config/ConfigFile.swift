import Foundation

/// The only file-system access of the config layer: reading config and auth files, and resolving the paths
/// they name. Used by `Config.load(path:)` and `UserList.load(path:)`; parsing itself never touches files.
enum ConfigFile {
    /// The file's text without a byte-order mark; throws a `ConfigError` for `path` at line 0 when it is missing,
    /// unreadable or not UTF-8.
    static func read(_ path: String) throws(ConfigError) -> String {
        guard exists(path) else {
            throw ConfigError(file: path, line: 0, message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: 0, message: "cannot read file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: 0, message: "file is not valid UTF-8")
        }
        return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    /// Whether a regular file or folder exists at `path`.
    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// `path` as written if it is absolute or exists from the working directory (PgBouncer's rule), else
    /// relative to the folder of `referringFile`.
    static func resolve(_ path: String, from referringFile: String) -> String {
        guard !path.isEmpty, !path.hasPrefix("/"), !exists(path) else { return path }
        let folder = (referringFile as NSString).deletingLastPathComponent
        return folder.isEmpty ? path : (folder as NSString).appendingPathComponent(path)
    }
}
