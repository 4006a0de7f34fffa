import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SpillwayCore

/// The /metrics and /healthz listener (metrics_listen_addr, metrics_listen_port): HTTP on SwiftNIO, off the
/// data path, for either data plane.
enum MetricsListener {
    /// Binds the listener on `group` and logs its address ("metrics listening").
    static func bind(
        group: EventLoopGroup, settings: Settings, source: MetricsHTTPHandler.Source, logger: Logger
    ) async throws -> Channel {
        let address = settings.metricsListenAddr == "*" ? "0.0.0.0" : settings.metricsListenAddr
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(source: source))
                }
            }
            .bind(host: address, port: settings.metricsListenPort).get()
        logger.info("metrics listening", metadata: ["addr": "\(address):\(channel.localAddress?.port ?? 0)"])
        return channel
    }
}
