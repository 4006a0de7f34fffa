/// `log_format`: how log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One line per event: time, level, message, then `key=value` metadata.
    case text
    /// One JSON object per line, metadata as top-level fields.
    case json
}
