/// An Aho–Corasick automaton over bytes: finds every occurrence of every pattern in one
/// left-to-right pass, whatever the number of patterns.
///
/// Built once; the transition table is complete (failure links are folded in), so a scan
/// is one table load per input byte. Bytes that occur in no pattern share one column
/// (class 0), which keeps the table small for UTF-8 text with a few hundred CJK keywords.
struct KeywordAutomaton: Sendable {
    private let byteClass: [UInt8]
    private let classCount: Int
    /// `transitions[state * classCount + class]` is the next state.
    private let transitions: [Int32]
    /// The outputs of `state` are `outputs[outputStart[state] ..< outputStart[state + 1]]`:
    /// those of patterns ending here and at every proper suffix that is a pattern.
    private let outputStart: [Int32]
    private let outputs: [Int32]

    /// `patterns` pairs non-empty byte strings with an output value reported when one
    /// occurs. Equal byte strings may carry different outputs.
    init(patterns: [(bytes: [UInt8], output: Int)]) {
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

        var outputStart: [Int32] = [0]
        var outputs: [Int32] = []
        for state in 0..<stateCount {
            outputs.append(contentsOf: merged[state])
            outputStart.append(Int32(outputs.count))
        }
        self.byteClass = byteClass
        self.classCount = classCount
        self.transitions = goto
        self.outputStart = outputStart
        self.outputs = outputs
    }

    /// Number of states, for diagnostics and tests.
    var stateCount: Int { outputStart.count - 1 }

    /// Calls `report` with the output of each pattern occurrence in `text`, in order of
    /// the occurrences' end positions.
    @inline(__always)
    func scan(_ text: UnsafeBufferPointer<UInt8>, report: (Int) -> Void) {
        byteClass.withUnsafeBufferPointer { byteClass in
            transitions.withUnsafeBufferPointer { transitions in
                outputStart.withUnsafeBufferPointer { outputStart in
                    var state = 0
                    for byte in text {
                        state = Int(transitions[state * classCount + Int(byteClass[Int(byte)])])
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
