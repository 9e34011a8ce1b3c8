/// A fixed-size open-addressing hash table from keys below 2^48 to 16-bit values, each entry one
/// `UInt64` (`key << 16 | value`): the compact index behind the region table and the keyword
/// automaton's branching states, read on every report, so it has to stay small and in cache.
///
/// Fibonacci hashing (the top bits of key × 2^64/φ) spreads consecutive keys such as region
/// codes and state numbers; the table is at most half full, so a miss ends after a probe or two.
struct PackedHashTable: Sendable {
    private var slots: [UInt64]
    private let shift: UInt64
    private static let emptySlot = UInt64.max
    /// Keys are below this, so that no entry can equal `emptySlot`.
    private static let keyLimit: UInt64 = 1 << 48 - 1

    /// An empty table with room for `count` entries.
    init(capacity count: Int) {
        var slotBits = 4
        while 1 << slotBits < 2 * count { slotBits += 1 }
        slots = [UInt64](repeating: Self.emptySlot, count: 1 << slotBits)
        shift = UInt64(64 - slotBits)
    }

    /// Adds `key` → `value`; `key` must be new, and the table must have room (its capacity).
    mutating func insert(_ value: UInt16, for key: UInt64) {
        precondition(key < Self.keyLimit, "key out of range")
        var slot = firstSlot(of: key)
        while slots[slot] != Self.emptySlot {
            precondition(slots[slot] >> 16 != key, "key inserted twice")
            slot = (slot + 1) & (slots.count - 1)
        }
        slots[slot] = key << 16 | UInt64(value)
    }

    /// The value stored for `key`, nil when there is none.
    @inline(__always)
    func value(for key: UInt64) -> UInt16? {
        slots.withUnsafeBufferPointer { slots in
            var slot = firstSlot(of: key)
            while slots[slot] != Self.emptySlot {
                if slots[slot] >> 16 == key { return UInt16(truncatingIfNeeded: slots[slot]) }
                slot = (slot &+ 1) & (slots.count &- 1)
            }
            return nil
        }
    }

    @inline(__always)
    private func firstSlot(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }
}
