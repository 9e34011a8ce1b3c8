import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the work itself, not of the command line: a file that cannot be read, a topic
/// that does not exist, a broker that does not answer. `baocuo` prints it as one line on stderr,
/// `baocuo: error: …`, without the usage, and exits ``exitStatus`` (2). Usage errors
/// (`ValidationError`, a bad flag) keep ArgumentParser's usage text and exit 64.
///
/// Exit statuses of every command: 0 success; 1 a check that found problems (`config check`,
/// `calendar check`, `batch status` with a batch missing after its due time); 2 a runtime failure
/// (this type, or `baocuo run` that cannot start or stopped on an error); 3 a process stopped
/// before its work was done (`baocuo run`'s watchdog, an interrupted `replay`); 64 usage.
struct RuntimeError: Error, CustomStringConvertible {
    static let exitStatus: Int32 = 2
    var description: String
    init(_ description: String) { self.description = description }
}

extension Baocuo {
    /// ArgumentParser's `main`, with ``RuntimeError`` printed as one line and exit 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as RuntimeError {
            var errorStream = StandardError()
            print("baocuo: error: \(error.description)", to: &errorStream)
            exitProcess(RuntimeError.exitStatus)
        } catch {
            exit(withError: error)
        }
    }
}

/// The C library's `exit` (flushes stdio), under a name no `ParsableCommand.exit` shadows.
func exitProcess(_ status: Int32) -> Never {
    exit(status)
}

/// Writes `count` bytes to standard error, unbuffered (the C library's `write`).
func writeToStandardError(_ bytes: UnsafeRawPointer?, _ count: Int) {
    _ = write(STDERR_FILENO, bytes, count)
}
