/// An Aho–Corasick automaton over the characters of UTF-8 text: finds every occurrence of every
/// pattern in one left-to-right pass, whatever the number of patterns.
///
/// Why characters, not bytes: the keywords are mostly Chinese, three bytes a character, and a
/// complete byte-level table (≈ 8,000 states × 130 byte classes, 2 MB) missed the cache on
/// nearly every byte of a scan, each load waiting on the one before. Here a scan takes one step
/// per character, and what it reads is small: a row for the root (the state after any character
/// no pattern contains), an 8-byte record per other state with its failure link (followed when
/// an edge is missing) and, as most trie states have at most one child, that child; the edges
/// of the branching states sit in a small hash table. A character no pattern contains sends the
/// scan straight back to the root.
///
/// Matches are those of the patterns' bytes in the text's bytes: a pattern is valid UTF-8, so a
/// byte-level match starts on a character and covers whole characters; bytes that are not
/// well-formed UTF-8 are one character each that no pattern contains.
struct KeywordAutomaton: Sendable {
    /// The most states a 16-bit entry with a flag bit can name.
    static let maximumStateCount = 1 << 15

    /// Character classes: 0 for a character in no pattern, else 1 ..< `classCount`.
    private let asciiClass: [UInt16]
    /// Classes of non-ASCII scalars, by 256-scalar page: `pageClasses[Int(pageBlock[scalar >> 8]) << 8 | scalar & 0xFF]`.
    /// Block 0 is all zeros and serves every page without a pattern character.
    private let pageBlock: [UInt16]
    private let pageClasses: [UInt16]
    /// An entry is the next state with `outputFlag` set when that state has outputs (most have
    /// none, so their output range is not read); 0 is the root without outputs.
    private static let outputFlag: UInt16 = 1 << 15
    /// The root's entry for each class.
    private let rootEntries: [UInt16]
    /// Every state but the root, by number (index 0 unused).
    private let states: [StateRecord]
    /// The edges of states with two or more children: `edgeKey(state, class)` → entry.
    private let edges: PackedHashTable

    struct StateRecord {
        /// The longest proper suffix of the state's text that is a state (0, the root, for none).
        var failure: UInt16 = 0
        var childCount: UInt16 = 0
        /// The class and entry of the only child when `childCount` is 1.
        var onlyChildClass: UInt16 = 0
        var onlyChildEntry: UInt16 = 0
    }
    /// The outputs of `state` are `outputs[outputStart[state] ..< outputStart[state + 1]]`:
    /// those of patterns ending here and at every proper suffix that is a pattern.
    private let outputStart: [Int32]
    private let outputs: [Int32]

    /// `patterns` pairs non-empty valid UTF-8 byte strings with an output value reported when
    /// one occurs. Equal byte strings may carry different outputs. Nil when the patterns need
    /// more than `maximumStateCount` states.
    init?(patterns: [(bytes: [UInt8], output: Int)]) {
        let scalarPatterns = patterns.map { pattern in
            (scalars: String(decoding: pattern.bytes, as: UTF8.self).unicodeScalars.map(\.value), output: pattern.output)
        }
        var classOf: [UInt32: UInt16] = [:]
        for pattern in scalarPatterns {
            for scalar in pattern.scalars where classOf[scalar] == nil {
                guard classOf.count + 1 < Int(UInt16.max) else { return nil }
                classOf[scalar] = UInt16(classOf.count + 1)
            }
        }
        let classCount = classOf.count + 1

        // The trie: edges by state, outputs of the patterns ending at each state.
        var children: [[UInt16: Int]] = [[:]]
        var ownOutputs: [[Int32]] = [[]]
        for pattern in scalarPatterns {
            var state = 0
            for scalar in pattern.scalars {
                let symbol = classOf[scalar]!
                if let child = children[state][symbol] {
                    state = child
                } else {
                    children.append([:])
                    ownOutputs.append([])
                    children[state][symbol] = children.count - 1
                    state = children.count - 1
                }
            }
            ownOutputs[state].append(Int32(pattern.output))
        }
        let stateCount = children.count
        guard stateCount <= Self.maximumStateCount else { return nil }

        // Breadth-first, so a state's failure target (shallower) is complete before the state.
        var failure = [UInt16](repeating: 0, count: stateCount)
        var merged = ownOutputs
        var queue = Array(children[0].values)
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            merged[state] = Array(Set(merged[state] + merged[Int(failure[state])])).sorted()
            for (symbol, child) in children[state] {
                var fallback = Int(failure[state])
                while fallback != 0, children[fallback][symbol] == nil { fallback = Int(failure[fallback]) }
                failure[child] = UInt16(children[fallback][symbol] ?? 0)
                queue.append(child)
            }
        }
        func entry(_ state: Int) -> UInt16 { UInt16(state) | (merged[state].isEmpty ? 0 : Self.outputFlag) }

        var asciiClass = [UInt16](repeating: 0, count: 128)
        var blockOfPage: [UInt32: UInt16] = [:]
        var pageClasses = [UInt16](repeating: 0, count: 256)
        for (scalar, symbol) in classOf.sorted(by: { $0.key < $1.key }) {
            if scalar < 0x80 {
                asciiClass[Int(scalar)] = symbol
                continue
            }
            let block: UInt16
            if let known = blockOfPage[scalar >> 8] {
                block = known
            } else {
                block = UInt16(pageClasses.count >> 8)
                blockOfPage[scalar >> 8] = block
                pageClasses.append(contentsOf: repeatElement(0, count: 256))
            }
            pageClasses[Int(block) << 8 | Int(scalar & 0xFF)] = symbol
        }
        var pageBlock = [UInt16](repeating: 0, count: 0x110000 >> 8)
        for (page, block) in blockOfPage { pageBlock[Int(page)] = block }

        var rootEntries = [UInt16](repeating: 0, count: classCount)
        for (symbol, child) in children[0] { rootEntries[Int(symbol)] = entry(child) }
        var states = [StateRecord](repeating: StateRecord(), count: stateCount)
        for state in 1..<stateCount {
            states[state].failure = failure[state]
            states[state].childCount = UInt16(children[state].count)
            if let (symbol, child) = children[state].first, children[state].count == 1 {
                states[state].onlyChildClass = symbol
                states[state].onlyChildEntry = entry(child)
            }
        }
        let branching = (1..<stateCount).filter { children[$0].count > 1 }
        var edges = PackedHashTable(capacity: branching.reduce(0) { $0 + children[$1].count })
        for state in branching {
            for (symbol, child) in children[state] {
                edges.insert(entry(child), for: Self.edgeKey(from: state, on: Int(symbol)))
            }
        }

        var outputStart: [Int32] = [0]
        var outputs: [Int32] = []
        for state in 0..<stateCount {
            outputs.append(contentsOf: merged[state])
            outputStart.append(Int32(outputs.count))
        }
        self.asciiClass = asciiClass
        self.pageBlock = pageBlock
        self.pageClasses = pageClasses
        self.rootEntries = rootEntries
        self.states = states
        self.edges = edges
        self.outputStart = outputStart
        self.outputs = outputs
    }

    /// Calls `report` with the output of every pattern occurrence in `text`, in order of the
    /// occurrences' ends (the outputs of one end in ascending order).
    @inline(__always)
    func scan(_ text: UnsafeBufferPointer<UInt8>, report: (Int) -> Void) {
        asciiClass.withUnsafeBufferPointer { asciiClass in
            pageBlock.withUnsafeBufferPointer { pageBlock in
                pageClasses.withUnsafeBufferPointer { pageClasses in
                    rootEntries.withUnsafeBufferPointer { rootEntries in
                        states.withUnsafeBufferPointer { states in
                            let count = text.count
                            var state = 0
                            var position = 0
                            while position < count {
                                let symbol: Int
                                let lead = text[position]
                                if lead < 0x80 {
                                    symbol = Int(asciiClass[Int(lead)])
                                    position += 1
                                } else if let (scalar, length) = Self.decodeMultiByte(text, at: position) {
                                    symbol = Int(pageClasses[Int(pageBlock[Int(scalar >> 8)]) << 8 | Int(scalar & 0xFF)])
                                    position += length
                                } else {
                                    symbol = 0
                                    position += 1
                                }
                                guard symbol != 0 else {
                                    state = 0
                                    continue
                                }
                                var entry: UInt16
                                while true {
                                    if state == 0 {
                                        entry = rootEntries[symbol]
                                        break
                                    }
                                    let record = states[state]
                                    if record.childCount == 1 {
                                        if Int(record.onlyChildClass) == symbol {
                                            entry = record.onlyChildEntry
                                            break
                                        }
                                    } else if record.childCount > 1, let found = edges.value(for: Self.edgeKey(from: state, on: symbol)) {
                                        entry = found
                                        break
                                    }
                                    state = Int(record.failure)
                                }
                                state = Int(entry & ~Self.outputFlag)
                                guard entry & Self.outputFlag != 0 else { continue }
                                var index = Int(outputStart[state])
                                let end = Int(outputStart[state + 1])
                                while index < end {
                                    report(Int(outputs[index]))
                                    index += 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The key of a branching state's edge on `symbol` in `edges`.
    @inline(__always)
    private static func edgeKey(from state: Int, on symbol: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: state) << 16 | UInt64(truncatingIfNeeded: symbol)
    }

    /// The scalar and length of the well-formed multi-byte UTF-8 sequence at `position`, nil
    /// when the bytes there are not one (overlong, surrogate, out of range or cut short).
    @inline(__always)
    private static func decodeMultiByte(_ text: UnsafeBufferPointer<UInt8>, at position: Int) -> (UInt32, Int)? {
        let lead = UInt32(text[position])
        let remaining = text.count - position
        @inline(__always) func continuation(_ offset: Int) -> UInt32? {
            let byte = UInt32(text[position + offset])
            return byte & 0xC0 == 0x80 ? byte & 0x3F : nil
        }
        switch lead {
        case 0xE0...0xEF:
            guard remaining >= 3, let second = continuation(1), let third = continuation(2) else { return nil }
            let scalar = (lead & 0x0F) << 12 | second << 6 | third
            guard scalar >= 0x800, !(0xD800...0xDFFF).contains(scalar) else { return nil }
            return (scalar, 3)
        case 0xC2...0xDF:
            guard remaining >= 2, let second = continuation(1) else { return nil }
            return ((lead & 0x1F) << 6 | second, 2)
        case 0xF0...0xF4:
            guard remaining >= 4, let second = continuation(1), let third = continuation(2), let fourth = continuation(3)
            else { return nil }
            let scalar = (lead & 0x07) << 18 | second << 12 | third << 6 | fourth
            guard (0x10000...0x10FFFF).contains(scalar) else { return nil }
            return (scalar, 4)
        default:
            return nil
        }
    }
}
