/// How the drill's applications reach PostgreSQL in one run.
public enum DrillMode: String, Sendable, Codable, CaseIterable {
    /// Straight to PostgreSQL, as in the incident.
    case direct
    /// Through an in-process Spillway with default settings (pool_mode = transaction).
    case spillway
}
