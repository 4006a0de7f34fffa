/// How the drill writes numbers in its table and verdict, without Foundation's formatters.
enum DrillFormat {
    /// `99.95%`: two decimals, rounded down, so 99.999 % is never shown as 100.00 %.
    static func percent(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded(.down))
        return "\(hundredths / 100).\(twoDigits(hundredths % 100))%"
    }

    /// `3.1 ms`: one decimal.
    static func milliseconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) ms"
    }

    /// `7` → `07`.
    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
