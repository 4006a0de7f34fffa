import Logging
import NIOCore
import NIOPosix
import SpillwayCore

/// /metrics and /healthz for the engine plane: the pools gathered from the loops at each scrape, HTTP served
/// on one SwiftNIO thread apart from the loops.
extension DataPlane {
    /// Starts the plane and, when metrics_listen_addr is set, its metrics listener.
    public static func launch(config: Config, logger: Logger, logOutput: LogOutput? = nil) async throws -> DataPlane {
        let plane = try start(config: config, logger: logger, logOutput: logOutput)
        do {
            try await plane.startMetrics()
        } catch {
            plane.shutdown()
            throw error
        }
        return plane
    }

    /// The port of the metrics listener, once it listens.
    public var metricsPort: Int? {
        metricsServer.withLock { $0?.channel.localAddress?.port }
    }

    func startMetrics() async throws {
        guard let metrics else { return }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let source = MetricsHTTPHandler.Source(
            metrics: { [self] reply in
                let loops = self.group.loops.count
                self.view(now: .now) { view in
                    reply(metrics.render(view: view, settings: self.runtime.settings, loops: loops,
                        healthy: self.unhealthyReason == nil))
                }
            },
            unhealthyReason: { [self] in self.unhealthyReason })
        do {
            let channel = try await MetricsListener.bind(
                group: group, settings: runtime.settings, source: source, logger: logger)
            metricsServer.withLock { $0 = (group, channel) }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Why /healthz answers 503, or nil while clients are accepted.
    var unhealthyReason: String? {
        if lifecycle.withLock({ $0.leaving }) { return "shutting down" }
        if operatorState.withLock({ $0.pausedAll }) { return "paused" }
        return nil
    }
}
