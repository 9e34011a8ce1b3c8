#if canImport(Glibc)
import Glibc
#endif

/// The machine's real-time clock in milliseconds: used only for `baocuo.failed.at` and for records
/// without a timestamp, never for placing a report in a weekly batch.
enum WallClock {
    static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
