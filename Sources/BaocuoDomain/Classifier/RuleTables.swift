/// The rules compiled into flat arrays, indexed by rule number, so that scoring a report
/// touches only plain integers and doubles.
struct RuleTables: Sendable {
    let contextOrder = ContextOrder()
    let ruleIds: [String]
    private let ruleCategory: [Int]
    private let ruleWeight: [Double]
    /// Required groups of rule `r`: `required[requiredStart[r] ..< requiredStart[r + 1]]`.
    private let requiredStart: [Int]
    private let required: [Int]
    /// Veto group of each rule, or -1.
    private let veto: [Int]
    /// Code patterns of rule `r`: `codes[codeStart[r] ..< codeStart[r + 1]]`; none: any code.
    private let codeStart: [Int]
    private let codes: [ClassificationRules.CodePattern]
    /// Rules with codes and no keywords, tried when the report has a code, listed under the
    /// first byte of each of their patterns (a code can only match a pattern sharing its first
    /// byte): `codeOnlyRules[codeOnlyStart[b] ..< codeOnlyStart[b + 1]]` for first byte `b`.
    private let codeOnlyStart: [Int]
    private let codeOnlyRules: [Int]
    private let ruleContext: [ContextBits]
    /// Rules to try when group `g` occurs: `triggered[triggerStart[g] ..< triggerStart[g + 1]]`.
    /// Each rule with keywords is listed under its first group only.
    private let triggerStart: [Int]
    private let triggered: [Int]
    private let boosts: [(category: Int, add: Double, context: ContextBits)]

    init(rules: ClassificationRules, categories: [Category]) {
        func index(_ category: Category) -> Int { categories.firstIndex(of: category)! }
        ruleIds = rules.rules.map(\.id)
        ruleCategory = rules.rules.map { index($0.category) }
        ruleWeight = rules.rules.map(\.weight)
        var start = [0]
        var flat: [Int] = []
        for rule in rules.rules {
            flat += rule.required
            start.append(flat.count)
        }
        requiredStart = start
        required = flat
        veto = rules.rules.map { $0.veto ?? -1 }
        codeStart = rules.rules.reduce(into: [0]) { $0.append($0.last! + $1.codes.count) }
        codes = rules.rules.flatMap(\.codes)
        var codeOnlyByFirstByte = [[Int]](repeating: [], count: 256)
        for (number, rule) in rules.rules.enumerated() where rule.required.isEmpty {
            // The parser refuses empty patterns, so every pattern has a first byte.
            for first in Set(rule.codes.map { $0.bytes[0] }) { codeOnlyByFirstByte[Int(first)].append(number) }
        }
        codeOnlyStart = codeOnlyByFirstByte.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        codeOnlyRules = codeOnlyByFirstByte.flatMap { $0 }
        let order = contextOrder
        ruleContext = rules.rules.map { order.mask(of: $0.context) }

        var byGroup = [[Int]](repeating: [], count: rules.groups.count)
        for (number, rule) in rules.rules.enumerated() {
            if let first = rule.required.first { byGroup[first].append(number) }
        }
        triggerStart = byGroup.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        triggered = byGroup.flatMap { $0 }
        boosts = rules.boosts.map { (index($0.category), $0.add, order.mask(of: $0.context)) }
    }

    /// Fills `scores` (one per category, initially empty) for a report whose normalised
    /// text satisfied the groups set in `groups`.
    func score(
        groups: UnsafeBufferPointer<UInt64>, code: UnsafeBufferPointer<UInt8>, context: ContextBits,
        into scores: UnsafeMutableBufferPointer<Score>
    ) {
        if let first = code.first {
            // Scores do not depend on the order rules are considered in (ties go to the lower rule number).
            for position in codeOnlyStart[Int(first)]..<codeOnlyStart[Int(first) + 1] {
                consider(codeOnlyRules[position], groups: groups, code: code, context: context, into: scores)
            }
        }
        for word in groups.indices {
            var bits = groups[word]
            while bits != 0 {
                let group = word << 6 | bits.trailingZeroBitCount
                bits &= bits - 1
                for position in triggerStart[group]..<triggerStart[group + 1] {
                    consider(triggered[position], groups: groups, code: code, context: context, into: scores)
                }
            }
        }
        for boost in boosts where scores[boost.category].rule >= 0 && boost.context.accepts(context) {
            scores[boost.category].boost += boost.add
        }
    }

    @inline(__always)
    private func consider(
        _ rule: Int, groups: UnsafeBufferPointer<UInt64>, code: UnsafeBufferPointer<UInt8>,
        context: ContextBits, into scores: UnsafeMutableBufferPointer<Score>
    ) {
        guard ruleContext[rule].accepts(context) else { return }
        if codeStart[rule] < codeStart[rule + 1],
            !codes[codeStart[rule]..<codeStart[rule + 1]].contains(where: { Self.matches($0, code) })
        {
            return
        }
        for position in requiredStart[rule]..<requiredStart[rule + 1] where !Self.isSet(required[position], in: groups) {
            return
        }
        if veto[rule] >= 0, Self.isSet(veto[rule], in: groups) { return }
        let category = ruleCategory[rule]
        let current = scores[category]
        // Rules are numbered in file order, so on equal weight the earlier rule stays.
        if current.rule < 0 || ruleWeight[rule] > current.weight || (ruleWeight[rule] == current.weight && rule < current.rule) {
            scores[category].rule = rule
            scores[category].weight = ruleWeight[rule]
        }
    }

    @inline(__always)
    private static func isSet(_ group: Int, in groups: UnsafeBufferPointer<UInt64>) -> Bool {
        groups[group >> 6] & (1 << UInt64(group & 63)) != 0
    }

    private static func matches(_ pattern: ClassificationRules.CodePattern, _ code: UnsafeBufferPointer<UInt8>) -> Bool {
        let bytes = pattern.bytes
        guard pattern.isPrefix ? code.count >= bytes.count : code.count == bytes.count else { return false }
        for index in bytes.indices where bytes[index] != code[index] { return false }
        return true
    }
}
