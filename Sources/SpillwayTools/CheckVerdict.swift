/// Whether the configuration is safe for its servers: on every host the worst case of every instance fits
/// beside the other backends. A host that could not be verified counts as unsafe; disabled safety bounds do
/// not count at all.
public struct CheckVerdict: Sendable, Equatable {
    /// True when every host was measured and has headroom left (also when there is no host to check).
    public var safe: Bool
    /// One line per host that is unsafe or could not be verified.
    public var reasons: [String]
    /// True when no `[databases]` entry names a server.
    public var nothingToCheck: Bool

    /// Judges `rows`.
    public init(rows: [CheckHostReport]) {
        nothingToCheck = rows.isEmpty
        reasons = rows.compactMap { row in
            switch row.status {
            case .safe:
                return nil
            case .unsafe(let over):
                return "\(row.host.address): the worst case needs \(over) more connection\(over == 1 ? "" : "s") "
                    + "than the server has for ordinary roles"
            case .cannotVerify(let reason):
                return "\(row.host.address): cannot verify: \(reason)"
            }
        }
        safe = reasons.isEmpty
    }

    /// The process's exit status: 0 safe, 1 unsafe.
    public var exitCode: Int32 { safe ? 0 : 1 }

    /// `SAFE: …` or `UNSAFE: …`, one line.
    public var line: String {
        if nothingToCheck {
            return "SAFE: nothing to check: no [databases] entry besides * names a server"
        }
        if safe {
            return "SAFE: on every host the worst case fits within max_connections beside the other backends"
        }
        return "UNSAFE: " + reasons.joined(separator: "; ")
    }
}
