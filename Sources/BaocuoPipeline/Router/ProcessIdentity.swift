#if canImport(Glibc)
import Glibc
#endif

/// `host-pid`, to tell fleet members apart in client ids and logs.
enum ProcessIdentity {
    static let hostAndPID: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "unknown-host"
        return "\(host)-\(getpid())"
    }()
}
