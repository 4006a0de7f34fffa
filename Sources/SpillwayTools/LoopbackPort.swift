import NIOCore
import NIOPosix

/// Free TCP ports on 127.0.0.1 below the ephemeral range (32768-60999), where outgoing connections of other
/// processes cannot take the port between the check and the server's bind.
enum LoopbackPort {
    /// A random free port in 20000..<32700, or nil when 200 tries found none.
    static func pickFree() async -> Int? {
        for _ in 0..<200 {
            let port = Int.random(in: 20000..<32700)
            if await isFree(port) {
                return port
            }
        }
        return nil
    }

    /// True when a listener can bind 127.0.0.1:`port` right now.
    static func isFree(_ port: Int) async -> Bool {
        guard
            let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: port).get()
        else { return false }
        try? await channel.close()
        return true
    }
}
