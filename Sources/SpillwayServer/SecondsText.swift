/// Seconds as logs and messages show them: whole when whole, else to a tenth ("342", "2.5").
enum SecondsText {
    static func of(_ duration: Duration) -> String {
        of(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static func of(_ value: Double) -> String {
        let tenths = (value * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    }
}
