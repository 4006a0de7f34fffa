import NIOCore

/// Durations as the drill reads and prints them.
extension Duration {
    /// `2s`, `0.5s`: seconds with at most three decimals, for messages.
    var formattedSeconds: String {
        let milliseconds = self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 {
            return "\(milliseconds / 1000)s"
        }
        var text = String(Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text + "s"
    }

    /// The duration in seconds, as a floating-point number.
    var inSeconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }

    /// The duration in milliseconds, as a floating-point number.
    var inMilliseconds: Double {
        self.inSeconds * 1000
    }

    /// The same span as NIO's `TimeAmount`.
    var timeAmount: TimeAmount {
        .nanoseconds(self.components.seconds * 1_000_000_000 + self.components.attoseconds / 1_000_000_000)
    }
}
