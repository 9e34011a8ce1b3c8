/// The text features of the classifier's model: character unigrams, bigrams and trigrams of
/// the normalised failure code and message (`MessageNormalizer`), each n-gram identified by a
/// 64-bit hash of its characters. Training and classification enumerate them with this one
/// function, so the model is applied to exactly the features it was trained on.
///
/// Characters rather than words: Chinese has no spaces, vendors abbreviate and misspell, and
/// the normal form removes spaces from English too; character n-grams still share most of
/// their pieces with a known phrase when one character differs.
enum TextFeatures {
    /// The longest n-gram.
    static let maximumLength = 3

    /// Calls `body(hash, start, length)` for every n-gram of the normalised UTF-8 `text`, where
    /// `start` and `length` count characters, not bytes. `text` must be valid UTF-8.
    @inline(__always)
    static func forEach(in text: UnsafeBufferPointer<UInt8>, _ body: (UInt64, Int, Int) -> Void) {
        var previous1: UInt32 = 0
        var previous2: UInt32 = 0
        var index = 0
        var read = 0
        let count = text.count
        while read < count {
            let scalar = decode(text, at: &read)
            body(hash(scalar), index, 1)
            if index >= 1 { body(hash(previous1, scalar), index - 1, 2) }
            if index >= 2 { body(hash(previous2, previous1, scalar), index - 2, 3) }
            previous2 = previous1
            previous1 = scalar
            index += 1
        }
    }

    /// The hash of the n-gram made of `scalars` (1 to `maximumLength` characters); the same value
    /// `forEach` reports for it.
    static func hash(of scalars: [UInt32]) -> UInt64 {
        switch scalars.count {
        case 1: hash(scalars[0])
        case 2: hash(scalars[0], scalars[1])
        default: hash(scalars[0], scalars[1], scalars[2])
        }
    }

    // FNV-1a over 32-bit characters, seeded by the n-gram's length, then a finalising mix so that
    // the low bits index a table well. Never 0, which marks an empty table slot.
    @inline(__always) private static func hash(_ a: UInt32) -> UInt64 { finish(step(seed(1), a)) }
    @inline(__always) private static func hash(_ a: UInt32, _ b: UInt32) -> UInt64 { finish(step(step(seed(2), a), b)) }
    @inline(__always) private static func hash(_ a: UInt32, _ b: UInt32, _ c: UInt32) -> UInt64 {
        finish(step(step(step(seed(3), a), b), c))
    }

    @inline(__always) private static func seed(_ length: UInt64) -> UInt64 { 0xCBF2_9CE4_8422_2325 ^ length }
    @inline(__always) private static func step(_ hash: UInt64, _ scalar: UInt32) -> UInt64 {
        (hash ^ UInt64(scalar)) &* 0x0000_0100_0000_01B3
    }
    @inline(__always) private static func finish(_ hash: UInt64) -> UInt64 {
        var mixed = hash
        mixed ^= mixed >> 33
        mixed &*= 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        return mixed | 1
    }

    @inline(__always)
    private static func decode(_ text: UnsafeBufferPointer<UInt8>, at read: inout Int) -> UInt32 {
        let lead = text[read]
        if lead < 0x80 {
            read += 1
            return UInt32(lead)
        }
        let (scalar, length) = UTF8Scalar.decode(text, at: read, lead: lead)
        read += length
        return scalar
    }
}
