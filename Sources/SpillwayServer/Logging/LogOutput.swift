#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import SpillwayCore

/// Where Spillway's log lines go: standard error always, `logfile` (appended; reopened on SIGHUP and RELOAD so
/// that logrotate can move it away) and syslog (`syslog`, `syslog_ident`, `syslog_facility`) when set. Each
/// line is written whole.
public final class LogOutput: Sendable {
    /// An open log file and its path.
    private struct File {
        var path: String
        var fd: Int32
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let format: LogFormat
    private let file: NIOLockedValueBox<File?>
    private let syslogEnabled: Bool
    /// openlog(3) keeps the pointer it is given: the ident must outlive the process's logging.
    private nonisolated(unsafe) let ident: UnsafeMutablePointer<CChar>?

    /// Opens `logfile` (creating it 0640) and syslog as `settings` say; throws naming the file when it cannot.
    public init(settings: Settings) throws {
        format = settings.logFormat
        file = NIOLockedValueBox(try settings.logfile.map { File(path: $0, fd: try Self.open($0)) })
        syslogEnabled = settings.syslog
        if settings.syslog {
            let ident = strdup(settings.syslogIdent)
            self.ident = ident
            openlog(ident, LOG_PID | LOG_NDELAY, settings.syslogFacility.code)
        } else {
            ident = nil
        }
    }

    /// The path of the open log file, if any.
    public var logfilePath: String? { file.withLockedValue { $0?.path } }

    /// A handler for `LoggingSystem.bootstrap` writing through this output at `level`.
    public func handler(label: String, level: Logger.Level) -> any LogHandler {
        var handler = Handler(output: self, label: label)
        handler.logLevel = level
        return handler
    }

    /// Formats each event as `log_format` says and hands it to the output with its level (for syslog).
    struct Handler: LogHandler {
        let output: LogOutput
        let label: String
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let call = event.metadata { merged.merge(call) { _, new in new } }
            let message = event.message.description
            let line = switch output.format {
            case .text: TextLogHandler.render(level: event.level, label: label, message: message, metadata: merged)
            case .json:
                JSONLogHandler.render(
                    timestamp: JSONLogHandler.timestamp(), level: event.level, label: label, message: message,
                    metadata: merged)
            }
            output.write(line, level: event.level)
        }
    }

    /// Gives the log file to `uid`/`gid` (the `user` Spillway is about to become), so it can reopen it.
    public func chown(uid: uid_t, gid: gid_t) {
        file.withLockedValue { file in
            if let file { _ = fchown(file.fd, uid, gid) }
        }
    }

    /// Closes the log file and opens `path` (the same or a new `logfile`; nil closes it). On failure the old
    /// file stays open and the reason is returned.
    @discardableResult
    public func reopen(path: String?) -> Result<Void, Failure> {
        guard let path else {
            file.withLockedValue { file in
                if let old = file { _ = close(old.fd) }
                file = nil
            }
            return .success(())
        }
        let fd: Int32
        do {
            fd = try Self.open(path)
        } catch {
            return .failure(error as? Failure ?? Failure(description: "\(error)"))
        }
        file.withLockedValue { file in
            if let old = file { _ = close(old.fd) }
            file = File(path: path, fd: fd)
        }
        return .success(())
    }

    /// One whole line (ending in a newline) to every destination.
    func write(_ line: String, level: Logger.Level) {
        JSONLogHandler.LineWriter.writeLine(line, to: 2)
        file.withLockedValue { file in
            if let file { JSONLogHandler.LineWriter.writeLine(line, to: file.fd) }
        }
        if syslogEnabled {
            let text = line.hasSuffix("\n") ? String(line.dropLast()) : line
            _ = withVaList([text]) { vsyslog(Self.priority(level), "%s", $0) }
        }
    }

    /// syslog(3) priority of a level.
    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }

    private static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw Failure(description: "logfile: cannot open \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
