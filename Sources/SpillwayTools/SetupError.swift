/// Something the drill needs before it can measure anything is missing or broken: PostgreSQL will not start,
/// the DSN does not log in, a role cannot be created. `spillway drill` exits 2 with `description`.
public struct SetupError: Error, Sendable, CustomStringConvertible {
    /// What failed and, where known, what to do about it.
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
