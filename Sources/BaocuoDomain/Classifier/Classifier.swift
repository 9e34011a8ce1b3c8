import Crypto
import Foundation

/// Assigns a report's failure to a taxonomy category (CONTRACT §4) with the rules of
/// `classification.yaml` and, when one is configured, the trained model of
/// `classifier-model.tsv` (`ClassifierModel`).
///
/// With a model, the rules are evidence, not the decision: their per-category scores are
/// features of the model next to the text's character n-grams and the report's context. Only a
/// rule at or above `decision.decisive` (emergency without a filing) decides on its own. The
/// model's most probable category wins when its probability reaches the model's threshold;
/// otherwise the report is UNCLASSIFIED. The reported rule is the winning category's
/// strongest matching rule, or `model` when no rule of that category matched.
///
/// Without a model (a rules file used alone):
/// The model is a score per category. A rule is evidence for one category: its keyword
/// groups (`all`, `any`) must each occur in the normalised failure code or message, none
/// of its `none` keywords may occur, its `codes` (if any) must match `failure.code`, and
/// its context filters (stages, visit and filing types) must accept the report. A
/// category's score is the weight of its strongest matching rule plus the boosts whose
/// context applies. The best category wins when it reaches the threshold and leads the
/// runner-up by the margin; otherwise the report is UNCLASSIFIED. The reported rule is
/// the winning category's strongest rule (the first in the file on a tie).
///
/// Everything is compiled at init: keywords into one Aho–Corasick automaton, rules into
/// flat tables. Classification only uses scratch space from `withUnsafeTemporaryAllocation`
/// (on the stack for ordinary message sizes) and never mutates the instance, so one
/// instance is shared by all threads.
public final class Classifier: Sendable {
    /// The rule id of UNCLASSIFIED outcomes.
    public static let unclassifiedRuleId = ClassificationRules.unclassifiedRuleId

    /// The rule id of categories decided by the model with no rule of theirs matching.
    public static let modelRuleId = ClassificationRules.modelRuleId

    /// Identifies the rules text and the model: the first 16 hex digits of the SHA-256 of the
    /// rules text, followed by the model's version when there is a model.
    public let rulesVersion: String
    /// The trained model, if one is configured.
    public let model: ClassifierModel?

    private let actionsByCategory: [Category: [String]]
    private let threshold: Double
    private let margin: Double
    private let decisiveWeight: Double
    private let categories: [Category]
    private let automaton: KeywordAutomaton
    private let groupCount: Int
    private let tables: RuleTables

    /// Compiles `rulesYAML`; `source` (usually the file path) names it in errors.
    /// - Throws: `ConfigError` with the line of the first problem.
    public init(rulesYAML: String, source: String, model: ClassifierModel? = nil) throws {
        let rules = try ClassificationRules(yaml: rulesYAML, source: source)
        rulesVersion = shortDigest(of: rulesYAML + (model?.version ?? ""))
        self.model = model
        actionsByCategory = rules.actions
        threshold = rules.threshold
        margin = rules.margin
        decisiveWeight = rules.decisiveWeight
        categories = Category.allCases
        var patterns: [(bytes: [UInt8], output: Int)] = []
        for (index, group) in rules.groups.enumerated() {
            for keyword in group { patterns.append((Array(keyword.utf8), index)) }
        }
        guard let automaton = KeywordAutomaton(patterns: patterns) else {
            throw ConfigError(
                file: source, line: nil,
                reason: "too many keywords: they need more than "
                    + "\(KeywordAutomaton.maximumStateCount) automaton states; merge or shorten keyword lists")
        }
        self.automaton = automaton
        groupCount = rules.groups.count
        tables = RuleTables(rules: rules, categories: categories)
    }

    /// The guidance configured for `category`, in file order.
    public func actions(for category: Category) -> [String] {
        actionsByCategory[category] ?? []
    }

    /// Classifies one report's failure.
    public func classify(_ input: ClassificationInput) -> Classification {
        var code = input.failureCode ?? ""
        var message = input.failureMessage ?? ""
        return code.withUTF8 { code in
            message.withUTF8 { message in
                classify(code: code, message: message, context: tables.contextOrder.bits(of: input))
            }
        }
    }

    /// Classifies a report's failure from its fields as they are held by `Report` (UTF-8 bytes;
    /// nil when absent), without making strings.
    func classify(_ report: Report) -> Classification {
        let context = tables.contextOrder.bits(stage: report.failureStage, visit: report.visitType, filing: report.filingType)
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        return report.text.withUTF8(.failureCode) { code in
            report.text.withUTF8(.failureMessage) { message in
                classify(
                    code: (code ?? none).assumingMemoryBound(to: UInt8.self),
                    message: (message ?? none).assumingMemoryBound(to: UInt8.self), context: context)
            }
        }
    }

    /// Classifies valid UTF-8 `code` and `message` (empty when absent) in `context`.
    private func classify(code: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>, context: ContextBits) -> Classification {
        withNormalized(code: code, message: message) { text, code in
            decide(text: text, code: code, context: context)
        }
    }

    /// Normalises `code` and `message` into one scratch buffer, code, a 0 byte, message, and hands
    /// `body` that text and its code part.
    private func withNormalized<Result>(
        code: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>,
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        let capacity = code.count + 1 + message.count
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { text in
            let base = text.baseAddress!
            let codeLength = MessageNormalizer.normalize(code, into: base)
            // A byte no keyword contains, so no match spans code and message.
            base[codeLength] = 0
            let messageLength = MessageNormalizer.normalize(message, into: base + codeLength + 1)
            return body(
                UnsafeBufferPointer(start: base, count: codeLength + 1 + messageLength),
                UnsafeBufferPointer(start: base, count: codeLength))
        }
    }

    /// Everything the decision about `input` rests on, for training and explanation.
    func evidence(_ input: ClassificationInput) -> ClassificationEvidence {
        var code = input.failureCode ?? ""
        var message = input.failureMessage ?? ""
        let context = tables.contextOrder.bits(of: input)
        return code.withUTF8 { code in
            message.withUTF8 { message in
                withNormalized(code: code, message: message) { text, code in
                    withRuleScores(text: text, code: code, context: context) { scores in
                        let decision = verdict(scores, text: text, code: code, context: context)
                        return ClassificationEvidence(
                            classification: decision.classification,
                            logits: decision.logits,
                            normalizedCode: Array(code),
                            normalizedMessage: Array(text[min(code.count + 1, text.count)...]),
                            context: ContextSlots(context),
                            ruleScores: scores.map { $0.rule >= 0 ? (tables.ruleIds[$0.rule], $0.total) : nil },
                            rulesVerdict: rulesVerdictCategory(scores))
                    }
                }
            }
        }
    }

    private func decide(text: UnsafeBufferPointer<UInt8>, code: UnsafeBufferPointer<UInt8>, context: ContextBits) -> Classification {
        withRuleScores(text: text, code: code, context: context) { scores in
            verdict(scores, text: text, code: code, context: context).classification
        }
    }

    /// Runs the rules over the normalised `text` (code, a 0 byte, message) and hands `body`
    /// one score per category.
    private func withRuleScores<Result>(
        text: UnsafeBufferPointer<UInt8>, code: UnsafeBufferPointer<UInt8>, context: ContextBits,
        _ body: (UnsafeBufferPointer<Score>) -> Result
    ) -> Result {
        let groupWords = (groupCount + 63) >> 6
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: groupWords) { groupBits in
            groupBits.initialize(repeating: 0)
            automaton.scan(text) { group in
                groupBits[group >> 6] |= 1 << UInt64(group & 63)
            }
            return withUnsafeTemporaryAllocation(of: Score.self, capacity: categories.count) { scores in
                scores.initialize(repeating: Score())
                tables.score(groups: UnsafeBufferPointer(groupBits), code: code, context: context, into: scores)
                return body(UnsafeBufferPointer(scores))
            }
        }
    }

    /// The decision from the rules' `scores` and, with a model, the model's logits.
    private func verdict(
        _ scores: UnsafeBufferPointer<Score>, text: UnsafeBufferPointer<UInt8>, code: UnsafeBufferPointer<UInt8>,
        context: ContextBits
    ) -> (classification: Classification, logits: ClassifierModel.Row?) {
        let rules = rulesVerdict(scores)
        let rulesDecide = rules.best >= 0 && rules.total >= threshold && rules.total - rules.runnerUp >= margin
        guard let model else {
            guard rulesDecide else {
                return (Classification(category: .unclassified, ruleId: Self.unclassifiedRuleId), nil)
            }
            return (Classification(category: categories[rules.best], ruleId: tables.ruleIds[scores[rules.best].rule]), nil)
        }
        if rules.best >= 0, scores[rules.best].weight >= decisiveWeight {
            return (Classification(category: categories[rules.best], ruleId: tables.ruleIds[scores[rules.best].rule]), nil)
        }
        let message = UnsafeBufferPointer(rebasing: text[min(code.count + 1, text.count)...])
        let logits = model.logits(
            code: code, message: message, context: ContextSlots(context), ruleScores: scores,
            rulesVerdict: rulesDecide ? rules.best : -1)
        var best = 0
        for lane in 1..<categories.count where logits[lane] > logits[best] { best = lane }
        // The winner's probability, 1 / Σ exp(logit - best logit), compared without dividing. A lane
        // more than 16 below the best adds under 1.2e-7: it cannot move the sum across 1 / threshold
        // in practice, and skipping its exp saves most of them on confident reports.
        var sum: Float = 0
        for lane in 0..<categories.count where logits[lane] - logits[best] > -16 { sum += exp(logits[lane] - logits[best]) }
        guard categories[best] != .unclassified, 1 >= model.threshold * sum else {
            return (Classification(category: .unclassified, ruleId: Self.unclassifiedRuleId), logits)
        }
        let rule = scores[best].rule
        return (Classification(category: categories[best], ruleId: rule >= 0 ? tables.ruleIds[rule] : Self.modelRuleId), logits)
    }

    /// The category the rules alone decide (threshold and margin met), or -1.
    private func rulesVerdictCategory(_ scores: UnsafeBufferPointer<Score>) -> Int {
        let rules = rulesVerdict(scores)
        return rules.best >= 0 && rules.total >= threshold && rules.total - rules.runnerUp >= margin ? rules.best : -1
    }

    /// The rules' best category (-1 when no rule matched), its score and the runner-up's score.
    private func rulesVerdict(_ scores: UnsafeBufferPointer<Score>) -> (best: Int, total: Double, runnerUp: Double) {
        var best = -1
        var bestTotal = -Double.infinity
        var runnerUp = 0.0
        for index in scores.indices where scores[index].rule >= 0 {
            let total = scores[index].total
            if total > bestTotal {
                if best >= 0 { runnerUp = max(runnerUp, bestTotal) }
                best = index
                bestTotal = total
            } else {
                runnerUp = max(runnerUp, total)
            }
        }
        return (best, bestTotal, runnerUp)
    }
}

/// One category's standing while a report is scored.
struct Score {
    /// Index of the strongest matching rule, or -1 when none matched.
    var rule = -1
    var weight = 0.0
    var boost = 0.0
    var total: Double { weight + boost }
}

/// The report's context fields as one bit each (0 when absent), to test against filter masks.
struct ContextBits {
    var stage: UInt16 = 0
    var visit: UInt16 = 0
    var filing: UInt16 = 0
}

/// Bit positions of the context enums: their case order, computed once.
struct ContextOrder: Sendable {
    let stages = FailureStage.allCases
    let visitTypes = VisitType.allCases
    let filingTypes = FilingType.allCases

    func bits(of input: ClassificationInput) -> ContextBits {
        bits(stage: input.failureStage, visit: input.visitType, filing: input.filingType)
    }

    func bits(stage: FailureStage?, visit: VisitType?, filing: FilingType?) -> ContextBits {
        ContextBits(
            stage: Self.bit(stage, in: stages), visit: Self.bit(visit, in: visitTypes),
            filing: Self.bit(filing, in: filingTypes))
    }

    func mask(of filter: ClassificationRules.ContextFilter) -> ContextBits {
        ContextBits(
            stage: filter.stages.reduce(0) { $0 | Self.bit($1, in: stages) },
            visit: filter.visitTypes.reduce(0) { $0 | Self.bit($1, in: visitTypes) },
            filing: filter.filingTypes.reduce(0) { $0 | Self.bit($1, in: filingTypes) })
    }

    private static func bit<Value: Equatable>(_ value: Value?, in order: [Value]) -> UInt16 {
        guard let value, let index = order.firstIndex(of: value) else { return 0 }
        return 1 << UInt16(index)
    }
}

extension ContextBits {
    /// Whether a report with these bits passes a filter with mask `self` (0: no filter).
    @inline(__always)
    func accepts(_ report: ContextBits) -> Bool {
        (stage == 0 || stage & report.stage != 0)
            && (visit == 0 || visit & report.visit != 0)
            && (filing == 0 || filing & report.filing != 0)
    }
}

/// The first 16 hex digits of the SHA-256 of `text`: the version of a rules or model file.
func shortDigest(of text: String) -> String {
    let digits = Array("0123456789abcdef")
    return String(SHA256.hash(data: Array(text.utf8)).prefix(8).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}
