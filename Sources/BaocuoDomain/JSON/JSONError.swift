/// Why a byte sequence is not an acceptable JSON document.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem: encoding, syntax, or a size limit.
    public enum Kind: Sendable, Equatable {
        /// The bytes are not valid UTF-8 (reported in preference to any syntax error).
        case invalidUTF8
        /// Valid UTF-8, but not strict RFC 8259 JSON, too deeply nested, or with duplicate keys.
        case invalidJSON
        /// More values than the parser was allowed to hold (a size limit, not a syntax error).
        case tooManyValues
    }

    /// What kind of problem it is.
    public let kind: Kind
    /// Human-readable reason with its position, e.g. `trailing comma before '}' at byte 812`.
    /// Never contains input text beyond a single character or a truncated key name.
    public let detail: String

    /// An error of `kind` with its `detail`.
    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// The `detail`: the reason and its byte position.
    public var description: String { detail }
}
