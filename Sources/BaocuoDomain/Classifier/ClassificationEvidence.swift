import Foundation

/// What a classification rests on: the rules' scores, the model's logits and the normalised
/// text. Built off the hot path, for training (`ModelTrainer`) and explanation.
struct ClassificationEvidence {
    var classification: Classification
    /// Nil when no model was consulted (no model configured, or a decisive rule).
    var logits: ClassifierModel.Row?
    var normalizedCode: [UInt8]
    var normalizedMessage: [UInt8]
    var context: ContextSlots
    /// Per category (in `Category.allCases` order): its strongest matching rule and score.
    var ruleScores: [(rule: String, score: Double)?]
    /// The category the rules alone decide (threshold and margin met), or -1.
    var rulesVerdict: Int

    /// Calls `body(hash, name)` for each n-gram of the code and the message, in order.
    func forEachNgram(_ body: (UInt64, String) -> Void) {
        for text in [normalizedCode, normalizedMessage] {
            let scalars = Array(String(decoding: text, as: UTF8.self).unicodeScalars)
            text.withUnsafeBufferPointer { bytes in
                TextFeatures.forEach(in: bytes) { hash, start, length in
                    var name = String.UnicodeScalarView()
                    name.append(contentsOf: scalars[start..<start + length])
                    body(hash, String(name))
                }
            }
        }
    }

    /// The number of n-grams of the code and the message together.
    var ngramCount: Int {
        var count = 0
        forEachNgram { _, _ in count += 1 }
        return count
    }
}

/// Why `baocuo classify --explain` classified a report as it did.
public struct ClassificationExplanation: Sendable, Codable {
    /// `decisive-rule`, `model` or `rules` (no model configured).
    public var decidedBy: String
    /// The decided category's wire id, e.g. `FILING_MISSING`.
    public var category: String
    /// The id of the deciding rule (see `Classification.ruleId`).
    public var rule: String
    /// The model's three most probable categories with their probabilities.
    public var probabilities: [Scored]
    /// Every category some rule matched, with its strongest rule and score.
    public var rules: [Scored]
    /// The features that set the decided category (or, when UNCLASSIFIED, the most probable one)
    /// apart from the runner-up most: each one's contribution to the difference of their logits,
    /// strongest first (a feature that favours the runner-up is negative).
    public var features: [Scored]

    /// A named contribution to the decision.
    public struct Scored: Sendable, Codable {
        /// What contributed: a category, rule or feature.
        public var name: String
        /// How much: a probability, rule score or logit contribution, by list.
        public var score: Double
    }
}

extension Classifier {
    /// The classification of `input` with the rules, probabilities and features behind it.
    public func explain(_ input: ClassificationInput, featureCount: Int = 8) -> ClassificationExplanation {
        let evidence = evidence(input)
        let categories = Category.allCases
        let rules = evidence.ruleScores.enumerated().compactMap { index, score in
            score.map { ClassificationExplanation.Scored(name: "\(categories[index].rawValue) \($0.rule)", score: $0.score) }
        }
        guard let model, let logits = evidence.logits else {
            return ClassificationExplanation(
                decidedBy: model == nil ? "rules" : "decisive-rule", category: evidence.classification.category.rawValue,
                rule: evidence.classification.ruleId, probabilities: [], rules: rules, features: [])
        }
        let probabilities = ClassifierModel.probabilities(logits, categoryCount: categories.count)
        let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        let focus =
            evidence.classification.category == .unclassified
            ? ranked.first(where: { categories[$0] != .unclassified }) ?? ranked[0]
            : categories.firstIndex(of: evidence.classification.category)!
        let runnerUp = ranked.first { $0 != focus } ?? focus
        func separation(_ row: ClassifierModel.Row) -> Double { Double(row[focus] - row[runnerUp]) }
        var contributions: [String: Double] = [:]
        let scale = Double(ClassifierModel.textScale(max(evidence.ngramCount, 1)))
        evidence.forEachNgram { hash, name in
            if let row = model.ngrams.row(for: hash) {
                contributions["text \"\(name)\"", default: 0] += separation(model.ngrams.rows[row]) * scale
            }
        }
        for (index, score) in evidence.ruleScores.enumerated() {
            if let score {
                contributions["rule \(categories[index].rawValue)"] =
                    separation(model.ruleWeights[index]) * score.score / Double(ClassifierModel.ruleScale)
            }
        }
        if evidence.rulesVerdict >= 0 {
            contributions["rules decide \(categories[evidence.rulesVerdict].rawValue)"] =
                separation(model.verdictWeights[evidence.rulesVerdict])
        }
        let slots = [evidence.context.stage, evidence.context.visit, evidence.context.filing]
        for kind in ClassifierModel.contextKinds.indices {
            let slot = slots[kind]
            let value = slot == 0 ? "-" : ClassifierModel.contextValues[kind][slot - 1]
            contributions["\(ClassifierModel.contextKinds[kind]) \(value)"] = separation(model.contextWeights[kind][slot])
        }
        let strongest = contributions.sorted { abs($0.value) > abs($1.value) || (abs($0.value) == abs($1.value) && $0.key < $1.key) }
            .prefix(featureCount)
            .map { ClassificationExplanation.Scored(name: $0.key, score: ($0.value * 1000).rounded() / 1000) }
        return ClassificationExplanation(
            decidedBy: "model", category: evidence.classification.category.rawValue, rule: evidence.classification.ruleId,
            probabilities: ranked.prefix(3).map {
                ClassificationExplanation.Scored(name: categories[$0].rawValue, score: (Double(probabilities[$0]) * 1000).rounded() / 1000)
            },
            rules: rules, features: Array(strongest))
    }
}
