/// A money amount as sent on the wire: a non-negative decimal string such as `"12345.67"`
/// (CONTRACT §2). Kept as text, never converted to binary floating point.
public struct DecimalAmount: Sendable, Hashable, CustomStringConvertible {
    /// The amount exactly as received.
    public let text: String

    /// Most integer digits accepted: far beyond any bill, small enough to fit `Decimal`-like types.
    public static let maxIntegerDigits = 20
    /// Most fraction digits accepted (fen, 分).
    public static let maxFractionDigits = 2

    /// Nil unless `text` is valid (see `isValid(_:)`).
    public init?(_ text: String) {
        var copy = text
        guard copy.withUTF8({ DecimalAmount.isValid(UnsafeRawBufferPointer($0)) }) else { return nil }
        self.text = text
    }

    init(validated text: String) { self.text = text }

    /// Whether `utf8` is `digits [ "." digits ]` with 1…20 integer digits and 1…2 fraction
    /// digits: no sign, exponent, spaces, or bare `.`. Leading zeros are tolerated (`"007.50"`
    /// means the same amount, so refusing it would only lose reports).
    public static func isValid(_ utf8: UnsafeRawBufferPointer) -> Bool {
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        var k = 0
        while k < utf8.count, isDigit(utf8[k]) { k += 1 }
        guard (1...maxIntegerDigits).contains(k) else { return false }
        guard k < utf8.count else { return true }
        guard utf8[k] == UInt8(ascii: ".") else { return false }
        let fractionStart = k + 1
        k = fractionStart
        while k < utf8.count, isDigit(utf8[k]) { k += 1 }
        return k == utf8.count && (1...maxFractionDigits).contains(k - fractionStart)
    }

    /// The amount exactly as received, e.g. `12345.67`.
    public var description: String { text }
}
