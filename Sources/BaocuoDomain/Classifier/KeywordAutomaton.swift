/// An Aho–Corasick automaton over bytes: finds every occurrence of every pattern in one
/// left-to-right pass, whatever the number of patterns.
///
/// Built once; the transition table is complete (failure links are folded in), so a scan
/// is one table load per input byte. The table is what a scan waits on, so it is kept
/// small: bytes that occur in no pattern share one column (class 0), entries are 16 bits,
/// and states are numbered breadth-first so the often-visited shallow states sit together.
struct KeywordAutomaton: Sendable {
    /// The most states a 16-bit entry with a flag bit can name.
    static let maximumStateCount = 1 << 15

    private let byteClass: [UInt8]
    private let classCount: Int
    /// `transitions[state * classCount + class]` is the next state, with `outputFlag` set
    /// when that state has outputs (most have none, so their output range is not read).
    private let transitions: [UInt16]
    private static let outputFlag: UInt16 = 1 << 15
    /// The outputs of `state` are `outputs[outputStart[state] ..< outputStart[state + 1]]`:
    /// those of patterns ending here and at every proper suffix that is a pattern.
    private let outputStart: [Int32]
    private let outputs: [Int32]

    /// `patterns` pairs non-empty byte strings with an output value reported when one
    /// occurs. Equal byte strings may carry different outputs. Nil when the patterns need
    /// more than `maximumStateCount` states.
    init?(patterns: [(bytes: [UInt8], output: Int)]) {
        var byteClass = [UInt8](repeating: 0, count: 256)
        var classCount = 1
        for pattern in patterns {
            for byte in pattern.bytes where byteClass[Int(byte)] == 0 {
                byteClass[Int(byte)] = UInt8(classCount)
                classCount += 1
            }
        }

        // The trie, with -1 for a missing edge.
        var goto: [Int32] = Array(repeating: -1, count: classCount)
        var ownOutputs: [[Int32]] = [[]]
        for pattern in patterns {
            var state = 0
            for byte in pattern.bytes {
                let slot = state * classCount + Int(byteClass[Int(byte)])
                if goto[slot] < 0 {
                    goto[slot] = Int32(ownOutputs.count)
                    goto.append(contentsOf: repeatElement(-1, count: classCount))
                    ownOutputs.append([])
                }
                state = Int(goto[slot])
            }
            ownOutputs[state].append(Int32(pattern.output))
        }

        // Breadth-first, so a state's failure target is complete before the state.
        let stateCount = ownOutputs.count
        var failure = [Int](repeating: 0, count: stateCount)
        var merged = ownOutputs
        var queue: [Int] = []
        for symbol in 0..<classCount {
            let child = goto[symbol]
            if child < 0 {
                goto[symbol] = 0
            } else {
                queue.append(Int(child))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            merged[state] = Array(Set(merged[state] + merged[failure[state]])).sorted()
            for symbol in 0..<classCount {
                let slot = state * classCount + symbol
                let fallback = goto[failure[state] * classCount + symbol]
                if goto[slot] < 0 {
                    goto[slot] = fallback
                } else {
                    let child = Int(goto[slot])
                    failure[child] = Int(fallback)
                    queue.append(child)
                }
            }
        }

        guard stateCount <= Self.maximumStateCount else { return nil }
        var outputStart: [Int32] = [0]
        var outputs: [Int32] = []
        for state in 0..<stateCount {
            outputs.append(contentsOf: merged[state])
            outputStart.append(Int32(outputs.count))
        }
        self.byteClass = byteClass
        self.classCount = classCount
        self.transitions = goto.map { target in
            UInt16(target) | (merged[Int(target)].isEmpty ? 0 : Self.outputFlag)
        }
        self.outputStart = outputStart
        self.outputs = outputs
    }

    /// Calls `report` with the output of each pattern occurrence in `text`, in order of
    /// the occurrences' end positions.
    @inline(__always)
    func scan(_ text: UnsafeBufferPointer<UInt8>, report: (Int) -> Void) {
        byteClass.withUnsafeBufferPointer { byteClass in
            transitions.withUnsafeBufferPointer { transitions in
                outputStart.withUnsafeBufferPointer { outputStart in
                    var state = 0
                    for byte in text {
                        let entry = transitions[state * classCount + Int(byteClass[Int(byte)])]
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
