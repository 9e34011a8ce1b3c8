import Dispatch

/// `Duration` in the units other APIs take: the one home of these conversions for every module
/// above the domain (BaocuoKafka, below it, converts for librdkafka itself: `kafkaMilliseconds`).
extension Duration {
    /// Whole milliseconds, rounded toward zero.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, rounded toward zero.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Seconds as a floating-point number, for display and rates.
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration for a `DispatchTime` deadline, in whole milliseconds.
    public var dispatchInterval: DispatchTimeInterval {
        .milliseconds(Int(milliseconds))
    }
}
