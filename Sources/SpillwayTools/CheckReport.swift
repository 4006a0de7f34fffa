/// Everything `spillway check` prints on stdout: the budget table, the disabled safety bounds and the verdict.
public struct CheckReport: Sendable, Equatable {
    /// One per host, sorted by address.
    public var rows: [CheckHostReport]
    /// Default-on bounds the configuration turns off.
    public var disabledBounds: [CheckDisabledBound]
    /// True when the file has a `*` line, which the worst case cannot count.
    public var hasWildcard: Bool

    public init(rows: [CheckHostReport], disabledBounds: [CheckDisabledBound], hasWildcard: Bool) {
        self.rows = rows
        self.disabledBounds = disabledBounds
        self.hasWildcard = hasWildcard
    }

    /// The judgement of `rows`.
    public var verdict: CheckVerdict { CheckVerdict(rows: rows) }

    /// 0 safe, 1 unsafe or not verifiable.
    public var exitCode: Int32 { verdict.exitCode }

    /// The whole output; every line ends with a newline.
    public var text: String {
        var text = ""
        if !rows.isEmpty {
            text += CheckTable(rows: rows).render()
            text += "headroom = max_connections - reserved - other backends - worst case × instances; "
                + "other backends are every client backend but the check's own\n"
        }
        if hasWildcard {
            text += "The * line is not counted: clients may open pools for any database name through it.\n"
        }
        text += "\n"
        if disabledBounds.isEmpty {
            text += "Disabled safety bounds: none.\n"
        } else {
            text += "Disabled safety bounds (warnings: they do not change the verdict or the exit status):\n"
            text += disabledBounds.map { $0.line + "\n" }.joined()
        }
        text += "\n" + verdict.line + "\n"
        return text
    }
}
