import PostgresWire
import SpillwayCore

/// What the admin console asks of a data plane: a view of the pools to answer SHOW from, the connections each
/// loop holds, and the operator commands. Answers that must be gathered from other loops come through callbacks,
/// on any thread; the console client takes them back to its own loop.
protocol ConsoleBackend: Sendable {
    /// The configuration of new logins.
    var runtime: RuntimeConfig { get }
    /// Every pool's counts, the list counts, paused and disabled databases, and the applications.
    func view(now: ContinuousClock.Instant, _ done: @escaping @Sendable (ConsoleView) -> Void)
    /// SHOW CLIENTS (`servers` false) or SHOW SERVERS, each connection read on its own loop, oldest first.
    func connectionReports(servers: Bool, _ done: @escaping @Sendable ([ConnectionReport]) -> Void)
    /// SHOW LEAKS rows: suspects, growing applications, recent reclaims.
    func leakRows(_ done: @escaping @Sendable ([[String?]]) -> Void)
    /// PAUSE: the matching pools (nil: every pool) lend no more servers.
    func pause(database: String?)
    /// RESUME: they lend again.
    func resume(database: String?)
    /// DISABLE / ENABLE: new logins to `database` are refused while disabled.
    func setDisabled(_ disabled: Bool, database: String)
    /// RECONNECT: the matching pools' servers are replaced (idle ones now, lent ones when released).
    func reconnect(database: String?)
    /// KILL_CLIENT: the client with this id ("c17" or "17") gets FATAL 57P01; false when there is none.
    func killClient(id: String, _ done: @escaping @Sendable (Bool) -> Void)
    /// RELOAD: the files are read again; one with an error is refused as a whole.
    func reload() -> Result<Void, ConfigError>
    /// SET key = value: a reloadable setting changes now, until the next RELOAD or restart.
    func set(_ key: String, to value: String) -> Result<Void, ErrorResponse>
    /// KILL db: every client of the database is closed and its servers too; the database stays paused.
    func kill(database: String)
    /// SHUTDOWN: `drain` waits for transactions first. False when nothing can shut the process down.
    func requestShutdown(drain: Bool) -> Bool
}

/// The pools as the console shows them, gathered at one moment.
struct ConsoleView: Sendable {
    var pools: [PoolReport] = []
    var lists = ListCounts()
    /// PAUSE without a database (or SIGUSR1) holds every pool.
    var pausedAll = false
    /// Databases with a paused pool.
    var paused: Set<String> = []
    var disabled: Set<String> = []
    var applications: [ApplicationReport] = []
}

/// Counts for SHOW LISTS and SHOW MEM.
struct ListCounts: Sendable {
    var pools = 0
    var clients = 0
    var servers = 0
    var waiting = 0
}

/// One pool as the admin console shows it.
struct PoolReport: Sendable {
    var key: PoolKey
    var mode: PoolMode
    var clients: Int
    var waiting: Int
    var active: Int
    var idle: Int
    var connecting: Int
    var testing: Int
    var oldestWait: Duration?
    var poolSize: Int
    var target: ServerTarget
    var stats: PoolStats
    /// Servers lent out, by their holders' application (the crowded-pool warning names the top ones).
    var heldByApplication: [String: Int] = [:]

    /// Servers that exist, in any state.
    var servers: Int { active + idle + connecting + testing }
}

/// What SHOW APPLICATIONS and /metrics report of one application.
struct ApplicationReport: Sendable {
    var application: String
    var active = 0
    var idle = 0
    var waiting = 0
    var held = 0
    var maxWait: Duration?
    var suspected = 0
    var leaksTotal = 0
}
