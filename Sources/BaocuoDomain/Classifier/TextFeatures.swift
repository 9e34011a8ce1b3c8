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
        // Rolling: the state of the bigram ending here is one step on from the previous character's
        // unigram state, the trigram's one step on from the previous bigram's.
        var previousUnigram: UInt64 = 0
        var previousBigram: UInt64 = 0
        var index = 0
        var read = 0
        let count = text.count
        while read < count {
            let scalar = decode(text, at: &read)
            let unigram = step(seed, scalar)
            body(unigram, index, 1)
            if index >= 1 {
                let bigram = step(previousUnigram, scalar)
                body(bigram, index - 1, 2)
                if index >= 2 { body(step(previousBigram, scalar), index - 2, 3) }
                previousBigram = bigram
            }
            previousUnigram = unigram
            index += 1
        }
    }

    /// The hash of the n-gram made of `scalars` (1 to `maximumLength` characters); the same value
    /// `forEach` reports for it.
    static func hash(of scalars: [UInt32]) -> UInt64 {
        scalars.reduce(seed, step)
    }

    // FNV-1a over 32-bit characters. The table that looks hashes up mixes them itself
    // (`PackedHashTable`'s Fibonacci hashing of the top 48 bits).
    private static let seed: UInt64 = 0xCBF2_9CE4_8422_2325
    @inline(__always) private static func step(_ hash: UInt64, _ scalar: UInt32) -> UInt64 {
        (hash ^ UInt64(scalar)) &* 0x0000_0100_0000_01B3
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
