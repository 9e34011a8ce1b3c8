/// The 18-character citizen identity number of GB 11643-1999 (居民身份证号码), as carried in
/// `insured.personId`. Person IDs are PII: this type validates and masks; it never logs.
public enum ResidentID {
    /// What is wrong with a candidate ID. Descriptions name the rule, never the value.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        /// Not exactly 18 characters.
        case wrongLength
        /// One of the first 17 characters is not a digit.
        case nonDigit
        /// The 18th character is neither a digit nor `X` / `x`.
        case badCheckCharacter
        /// The 18th character is not the MOD 11-2 check character of the first 17.
        case checkDigitMismatch

        /// The broken rule in words, without the ID itself.
        public var description: String {
            switch self {
            case .wrongLength: "must be 18 characters"
            case .nonDigit: "the first 17 characters must be digits"
            case .badCheckCharacter: "the last character must be a digit or X"
            case .checkDigitMismatch: "GB 11643 check digit does not match"
            }
        }
    }

    /// MOD 11-2 weights of the first 17 digits.
    private static let weights: [Int] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    /// Check character for each remainder of the weighted sum modulo 11.
    private static let checkCharacters = Array("10X98765432".utf8)

    /// Whether `id` is 18 characters with a valid GB 11643 check character. A lowercase `x` is
    /// accepted as the check character: it is the same ID, commonly typed that way, and
    /// refusing it would dead-letter reports for a cosmetic difference.
    public static func isValid(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { problem(UnsafeRawBufferPointer($0)) == nil }
    }

    /// The first rule `utf8` breaks, or nil for a valid ID.
    public static func problem(_ utf8: UnsafeRawBufferPointer) -> Problem? {
        guard utf8.count == 18 else { return .wrongLength }
        var sum = 0
        for k in 0..<17 {
            let c = utf8[k]
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return .nonDigit }
            sum += Int(c - UInt8(ascii: "0")) * weights[k]
        }
        var last = utf8[17]
        if last == UInt8(ascii: "x") { last = UInt8(ascii: "X") }
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(last) || last == UInt8(ascii: "X") else {
            return .badCheckCharacter
        }
        return last == checkCharacters[sum % 11] ? nil : .checkDigitMismatch
    }

    /// `id` with all but its first 6 and last 4 characters replaced by `*`, keeping its length
    /// (for copies whose receivers need the region part, not the person). IDs of 10 characters
    /// or fewer are masked entirely.
    public static func masked(_ id: String) -> String {
        let characters = Array(id)
        guard characters.count > 10 else { return String(repeating: "*", count: characters.count) }
        return String(characters[..<6]) + String(repeating: "*", count: characters.count - 10)
            + String(characters[(characters.count - 4)...])
    }
}
