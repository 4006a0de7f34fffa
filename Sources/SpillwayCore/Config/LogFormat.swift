/// `log_format`: how log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One line per event: time, level, message, then `key=value` metadata.
    case text
    /// One JSON object per line, metadata as top-level fields.
    case json
}

/// `syslog_facility`: the syslog facility of Spillway's lines, by PgBouncer's names.
public enum SyslogFacility: String, Sendable, CaseIterable {
    case auth, authpriv, daemon, user, local0, local1, local2, local3, local4, local5, local6, local7

    /// The facility's number as syslog(3) wants it (already shifted: `LOG_DAEMON` is 3 << 3).
    public var code: Int32 {
        switch self {
        case .auth: 4 << 3
        case .authpriv: 10 << 3
        case .daemon: 3 << 3
        case .user: 1 << 3
        case .local0: 16 << 3
        case .local1: 17 << 3
        case .local2: 18 << 3
        case .local3: 19 << 3
        case .local4: 20 << 3
        case .local5: 21 << 3
        case .local6: 22 << 3
        case .local7: 23 << 3
        }
    }
}
