/// FNV-1a, 64-bit: the same value for the same text in every process and build, unlike `Hasher`
/// (seeded per process). For ids and assignments that must not change between runs.
enum StableHash {
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
