extension Config {
    /// `%include` may nest this deep; deeper means a loop.
    static let maxIncludeDepth = 16

    /// Reads and parses the file at `path`, expanding `%include <path>` lines in place (the included lines
    /// continue the current section). A relative `auth_file` or `%include` path that does not exist from the
    /// working directory (PgBouncer's rule) is taken from the including file's folder instead.
    public static func load(path: String) throws(ConfigError) -> Config {
        var config = try parse(lines: expandedLines(of: path, depth: 0))
        config.path = path
        if let authFile = config.settings.authFile {
            config.settings.authFile = ConfigFile.resolve(authFile, from: path)
        }
        return config
    }

    /// The lines of `path` with every `%include` replaced by the included file's lines.
    private static func expandedLines(of path: String, depth: Int) throws(ConfigError) -> [INIReader.Line] {
        var lines: [INIReader.Line] = []
        for line in try INIReader.read(ConfigFile.read(path), file: path) {
            guard case .include(let included) = line.content else {
                lines.append(line)
                continue
            }
            guard depth < maxIncludeDepth else {
                throw ConfigError(
                    file: line.file, line: line.number,
                    message:
                        "%include nested more than \(maxIncludeDepth) levels deep; do the files include each other?")
            }
            let resolved = ConfigFile.resolve(included, from: path)
            guard ConfigFile.exists(resolved) else {
                throw ConfigError(file: line.file, line: line.number, message: "%include: no such file '\(included)'")
            }
            lines += try expandedLines(of: resolved, depth: depth + 1)
        }
        return lines
    }
}
