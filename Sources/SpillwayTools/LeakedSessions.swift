import NIOConcurrencyHelpers

/// The sessions the leaky job left open, held until the run ends so they stay idle in transaction; at most
/// `limit` of them, so the drill's file descriptors stay bounded.
final class LeakedSessions: Sendable {
    /// The most sessions held at once.
    let limit: Int
    private let clients = NIOLockedValueBox<[WireClient]>([])

    init(limit: Int) {
        self.limit = limit
    }

    /// True when `limit` sessions are held already.
    var isFull: Bool {
        clients.withLockedValue { $0.count >= limit }
    }

    /// Holds `client` open until `closeAll()`.
    func keep(_ client: WireClient) {
        clients.withLockedValue { $0.append(client) }
    }

    /// Closes every session held (concurrently) and forgets them.
    func closeAll() async {
        let all = clients.withLockedValue { clients in
            defer { clients = [] }
            return clients
        }
        await withDiscardingTaskGroup { group in
            for client in all {
                group.addTask { await client.close() }
            }
        }
    }
}
