#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's real-time clock: used only for `baocuo.failed.at`, for records without a
/// timestamp and for the ingest-to-acknowledgement latency, never for placing a report in a weekly
/// batch.
enum WallClock {
    static func nowNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    static func nowMilliseconds() -> Int64 { nowNanoseconds() / 1_000_000 }
}
