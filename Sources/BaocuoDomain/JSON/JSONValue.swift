/// The JSON type of a parsed value.
public enum JSONKind: UInt8, Sendable {
    /// An object; its members follow it on the tape.
    case object
    /// An array; its elements follow it on the tape.
    case array
    /// A string (also every object member's key).
    case string
    /// A number, kept as its text.
    case number
    /// The literal `true`.
    case `true`
    /// The literal `false`.
    case `false`
    /// The literal `null`.
    case null
}

/// A handle to one value of a `JSONDocument`: its position on the document's tape.
///
/// Handles are plain integers so that walking a document never retains or allocates;
/// they are meaningful only together with the document that produced them.
public struct JSONValue: Sendable, Hashable {
    /// Index of the value's node on the tape.
    public let index: Int

    /// The handle of the node at tape position `index`; only meaningful with its document.
    public init(index: Int) { self.index = index }
}

/// One node of a parsed document's flat tape.
///
/// Containers are followed on the tape by their contents (object members as key node,
/// value subtree, key node, value subtree, …), so a whole document is one array without
/// per-node allocations, and `subtreeEnd` lets a reader skip any subtree in O(1).
/// Offsets are 32-bit to keep the tape compact; `JSONParser` rejects larger inputs.
public struct JSONNode: Sendable, Equatable {
    /// The node's JSON type; for object members, keys are `.string` nodes.
    public let kind: JSONKind
    /// For strings: whether the token contains backslash escapes (so its raw bytes are not its value).
    public let hasEscapes: Bool
    let start: UInt32
    var end: UInt32
    /// Tape index just past this node's subtree. While the parser still fills a container,
    /// this temporarily holds the index of the enclosing open container (or `UInt32.max`).
    var link: UInt32
    /// Containers: number of members (objects) or elements (arrays). Zero for scalars.
    var count: UInt32

    /// Bytes of the value's token in the input: a string includes its quotes,
    /// a container its brackets.
    public var byteRange: Range<Int> { Int(start)..<Int(end) }

    /// Tape index just past this value and everything it contains.
    public var subtreeEnd: Int { Int(link) }

    /// Number of members of an object or elements of an array; zero for scalars.
    public var memberCount: Int { Int(count) }
}
