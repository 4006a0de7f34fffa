import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
private let systemClose = Glibc.close
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
private let systemClose = Darwin.close
#endif

/// A log file the in-process Spillway writes its lines to, one whole line per write; lines that arrive after
/// `close()` are dropped (never written to a descriptor number reused since).
final class LogFile: Sendable {
    /// Where the lines go.
    let path: String
    private let descriptor: NIOLockedValueBox<Int32?>

    /// Creates or appends to `path`.
    init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SetupError("cannot open \(path) for Spillway's log: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.descriptor = NIOLockedValueBox(fd)
    }

    /// Appends `line` (which ends with its newline).
    func write(_ line: String) {
        descriptor.withLockedValue { fd in
            guard let fd else { return }
            var bytes = Array(line.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                bytes = bytes.dropFirst(written)
            }
        }
    }

    /// Closes the file; later lines are dropped.
    func close() {
        descriptor.withLockedValue { fd in
            if let open = fd {
                _ = systemClose(open)
            }
            fd = nil
        }
    }
}
