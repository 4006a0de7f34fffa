/// How `spillway check` runs: overrides from the command line and what it takes from the environment.
public struct CheckOptions: Sendable {
    /// `--instances`: overrides `instances` from the file.
    public var instances: Int?
    /// `--user`: the role to log in to every host as.
    public var user: String?
    /// `--password`: its password.
    public var password: String?
    /// The process environment (`PGUSER`, `PGPASSWORD` are read).
    public var environment: [String: String] = [:]
    /// The operating-system user: the role name when nothing else gives one, as libpq does.
    public var systemUser = "postgres"
    /// How long connecting and logging in to one host may take.
    public var connectTimeout: Duration = .seconds(10)
    /// How long the budget query may take.
    public var queryTimeout: Duration = .seconds(10)

    public init() {}
}
