#if canImport(Glibc)
import Glibc
#endif
import Logging
import SpillwayCore
import SpillwayEngine
import Synchronization

/// The socket options Spillway sets on a connected client or server socket, each at its own level:
/// SO_KEEPALIVE, SO_SNDBUF/SO_RCVBUF (`tcp_socket_buffer`) at SOL_SOCKET; TCP_KEEPIDLE, TCP_KEEPINTVL,
/// TCP_KEEPCNT and TCP_USER_TIMEOUT at IPPROTO_TCP. TCP_NODELAY is set by the engine (at IPPROTO_TCP).
///
/// A peer that vanished (a crashed host, a dropped NAT entry) is noticed within a minute or two instead of the
/// kernel's two hours. Unix sockets get only the buffer sizes; a value of 0 keeps the system's default.
/// An option that fails never closes the connection: it tunes, it is not needed to work. Each failing option
/// is logged once per process with its name and errno, so an operator learns of it without a flood.
enum TCPOptions {
    /// Sets the options on a connected socket (TCP_NODELAY is set by the engine's connect and at accept).
    static func apply(to socket: SpillwayEngine.Socket, isTCP: Bool, settings: Settings, logger: Logger) {
        for value in Self.options(settings: settings, isTCP: isTCP) {
            do throws(SocketError) {
                try socket.setOption(level: value.level, name: value.option, value: Int32(clamping: value.value))
            } catch {
                reportOnce(value, errno: error.errno.rawValue, error: error, logger: logger)
            }
        }
    }

    /// What `settings` asks for on a socket.
    static func options(settings: Settings, isTCP: Bool) -> [Option] {
        var values: [Option] = []
        if settings.tcpSocketBuffer > 0 {
            values.append(Option(name: "SO_SNDBUF", level: SOL_SOCKET, option: SO_SNDBUF, value: settings.tcpSocketBuffer))
            values.append(Option(name: "SO_RCVBUF", level: SOL_SOCKET, option: SO_RCVBUF, value: settings.tcpSocketBuffer))
        }
        if isTCP {
            values.append(
                Option(name: "SO_KEEPALIVE", level: SOL_SOCKET, option: SO_KEEPALIVE, value: settings.tcpKeepalive ? 1 : 0))
            if settings.tcpKeepalive {
                let tcp = CInt(IPPROTO_TCP)
                values += [
                    Option(name: "TCP_KEEPIDLE", level: tcp, option: CInt(TCP_KEEPIDLE), value: settings.tcpKeepidle),
                    Option(name: "TCP_KEEPINTVL", level: tcp, option: CInt(TCP_KEEPINTVL), value: settings.tcpKeepintvl),
                    Option(name: "TCP_KEEPCNT", level: tcp, option: CInt(TCP_KEEPCNT), value: settings.tcpKeepcnt),
                ].filter { $0.value > 0 }
            }
            if settings.tcpUserTimeout > 0 {
                values.append(Option(
                    name: "TCP_USER_TIMEOUT", level: CInt(IPPROTO_TCP), option: CInt(TCP_USER_TIMEOUT),
                    value: settings.tcpUserTimeout))
            }
        }
        return values
    }

    /// One option to set: its C name (for the log), level, number and value.
    struct Option {
        var name: String
        var level: CInt
        var option: CInt
        var value: Int
    }

    /// Option names already reported as failing: each is logged once per process.
    private static let reported = Mutex<Set<String>>([])

    private static func reportOnce(_ option: Option, errno: CInt?, error: any Error, logger: Logger) {
        let first = reported.withLock { $0.insert(option.name).inserted }
        guard first else { return }
        logger.warning("socket option failed; the connection goes on without it (logged once)", metadata: [
            "option": "\(option.name)", "value": "\(option.value)",
            "errno": "\(errno.map { "\($0) (\(String(cString: strerror($0))))" } ?? "\(error)")",
        ])
    }
}
