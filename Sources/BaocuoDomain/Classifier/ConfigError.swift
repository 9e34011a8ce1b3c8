/// A configuration file that cannot be used, with the place that is wrong.
///
/// Raised at start-up, before any record is processed, so that an operator's edit
/// fails loudly with a pointer into the file instead of misrouting reports.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or other source name) the configuration came from.
    public var file: String
    /// 1-based line of the offending text, when known.
    public var line: Int?
    /// What is wrong, in words an operator can act on.
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    /// `file:line: reason`, or `file: reason` when the line is unknown.
    public var description: String {
        if let line { "\(file):\(line): \(reason)" } else { "\(file): \(reason)" }
    }
}
