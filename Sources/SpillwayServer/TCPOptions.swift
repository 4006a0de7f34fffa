#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import SpillwayCore

/// TCP keepalive timing and TCP_USER_TIMEOUT on a connected socket, from tcp_keepidle, tcp_keepintvl,
/// tcp_keepcnt and tcp_user_timeout: a peer that vanished (a crashed host, a dropped NAT entry) is noticed
/// within a minute or two instead of the kernel's two hours. Unix sockets are left alone; a value of 0 keeps
/// the system's default. Failures are ignored: the options tune detection, they are not needed to work.
enum TCPOptions {
    static func apply(to channel: Channel, settings: Settings) {
        guard settings.tcpKeepalive, let options = channel.syncOptions else { return }
        switch channel.localAddress {
        case .v4?, .v6?: break
        default: return
        }
        let tcp = NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP))
        let values: [(CInt, Int)] = [
            (CInt(TCP_KEEPIDLE), settings.tcpKeepidle), (CInt(TCP_KEEPINTVL), settings.tcpKeepintvl),
            (CInt(TCP_KEEPCNT), settings.tcpKeepcnt), (CInt(TCP_USER_TIMEOUT), settings.tcpUserTimeout),
        ]
        for (name, value) in values where value > 0 {
            let option = ChannelOptions.Types.SocketOption(level: tcp, name: NIOBSDSocket.Option(rawValue: name))
            try? options.setOption(option, value: SocketOptionValue(value))
        }
    }
}
