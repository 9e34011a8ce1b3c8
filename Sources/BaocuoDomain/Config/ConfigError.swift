/// A configuration file (or environment variable) that cannot be used, with where and why.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file name (or environment variable) the problem is in.
    public var file: String
    /// The 1-based line of the problem, when it has one.
    public var line: Int?
    /// What is wrong, for a person fixing the file.
    public var reason: String

    /// A problem in `file` (at `line`, when known).
    public init(file: String, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    /// `file:line: reason`, or `file: reason` without a line.
    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}
