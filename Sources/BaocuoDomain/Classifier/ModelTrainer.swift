import Foundation

/// One labelled failure of the classifier's corpus (`Tests/Corpus/`): the fields the classifier
/// reads and the category a person assigned. A JSON line; empty strings mean "absent".
public struct LabelledExample: Codable, Sendable {
    /// The example's id, unique in the corpus.
    public var id: String
    /// The category a person assigned (wire id, e.g. `FILING_MISSING`).
    public var category: String
    /// `failure.stage` (wire spelling); nil or empty when absent.
    public var stage: String?
    /// `visit.type` (wire spelling); nil or empty when absent.
    public var visit: String?
    /// `filing.type` (wire spelling); nil or empty when absent.
    public var filing: String?
    /// `failure.code`; nil or empty when absent.
    public var code: String?
    /// `failure.message`; nil or empty when absent.
    public var message: String?
    /// Why another category could be argued for, when it could.
    public var arguable: String?

    /// An example labelled `category` with `input`'s fields (absent fields stay nil).
    public init(id: String, category: Category, input: ClassificationInput, arguable: String? = nil) {
        self.id = id
        self.category = category.rawValue
        stage = input.failureStage?.rawValue
        visit = input.visitType?.rawValue
        filing = input.filingType?.rawValue
        code = input.failureCode
        message = input.failureMessage
        self.arguable = arguable
    }

    /// The classifier's input, with empty strings read as absent.
    public var input: ClassificationInput {
        func present(_ value: String?) -> String? { value?.isEmpty == false ? value : nil }
        return ClassificationInput(
            failureCode: present(code), failureMessage: present(message),
            failureStage: present(stage).flatMap(FailureStage.init(rawValue:)),
            visitType: present(visit).flatMap(VisitType.init(rawValue:)),
            filingType: present(filing).flatMap(FilingType.init(rawValue:)))
    }

    /// Reads a corpus file: one example per non-blank line, each with a known category and known
    /// enum values. `source` names the file in errors.
    public static func load(jsonLines text: String, source: String) throws(ConfigError) -> [LabelledExample] {
        var examples: [LabelledExample] = []
        let decoder = JSONDecoder()
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            let fail = { (reason: String) in ConfigError(file: source, line: offset + 1, reason: reason) }
            let example: LabelledExample
            do {
                example = try decoder.decode(LabelledExample.self, from: Data(line.utf8))
            } catch {
                throw fail("not a labelled example: \(error)")
            }
            guard Category(rawValue: example.category) != nil else { throw fail("unknown category \(example.category)") }
            for (name, value, known) in [
                ("stage", example.stage, FailureStage.allCases.map(\.rawValue)),
                ("visit", example.visit, VisitType.allCases.map(\.rawValue)),
                ("filing", example.filing, FilingType.allCases.map(\.rawValue)),
            ]
            where value?.isEmpty == false && !known.contains(value!) {
                throw fail("unknown \(name) \(value!)")
            }
            examples.append(example)
        }
        return examples
    }
}

/// Trains `ClassifierModel` from labelled examples: multinomial logistic regression with an L2
/// penalty, full-batch Adam from zero weights in a fixed order, so the same corpus and rules
/// always give the same file.
public struct ModelTrainer {
    /// An n-gram becomes a feature when this many training examples contain it.
    public var minimumCount = 3
    /// The L2 penalty's coefficient: the loss adds `l2` / 2 times the squared weights (0: none).
    public var l2: Float = 0
    /// Full-batch Adam steps taken.
    public var iterations = 400
    /// Adam's step size.
    public var learningRate: Float = 0.05
    /// N-grams whose weights all stay below this are left out of the file.
    public var pruneBelow: Float = 0.005

    let rulesYAML: String
    let rulesSource: String
    private let rules: Classifier?

    /// A trainer for the rules in `rulesYAML` (`rulesSource` names them in errors); throws when they are invalid.
    public init(rulesYAML: String, rulesSource: String) throws {
        self.rulesYAML = rulesYAML
        self.rulesSource = rulesSource
        rules = try Classifier(rulesYAML: rulesYAML, source: rulesSource)
    }

    /// A trainer without rules, to read its default hyperparameters.
    public init() {
        rulesYAML = ""
        rulesSource = ""
        rules = nil
    }

    typealias Row = ClassifierModel.Row
    private static let categoryCount = Category.allCases.count
    // Row layout of the weights: bias, one row per rule category, one per rules verdict, the
    // context slots, then n-grams.
    private static let ruleRowStart = 1
    private static let verdictRowStart = ruleRowStart + categoryCount
    private static let contextRowStarts: [Int] = {
        var starts: [Int] = []
        var next = verdictRowStart + categoryCount
        for values in ClassifierModel.contextValues {
            starts.append(next)
            next += values.count + 1
        }
        return starts
    }()
    private static let ngramRowStart = contextRowStarts.last! + ClassifierModel.contextValues.last!.count + 1

    /// The model file's text for `examples`, with `threshold`.
    public func modelText(training examples: [LabelledExample], threshold: Float, header: [String] = []) -> String {
        let (weights, names) = fit(examples)
        let categories = Category.allCases
        func format(_ row: Row) -> String {
            (0..<categories.count).map { String(format: "%.4f", row[$0]) }.joined(separator: "\t")
        }
        var lines = header.map { "# " + $0 }
        lines.append("format\t1")
        lines.append("categories\t" + categories.map(\.rawValue).joined(separator: "\t"))
        lines.append("threshold\t" + String(format: "%.2f", threshold))
        lines.append("bias\t" + format(weights[0]))
        for (index, category) in categories.enumerated() {
            lines.append("rule\t\(category.rawValue)\t" + format(weights[Self.ruleRowStart + index]))
        }
        for (index, category) in categories.enumerated() {
            lines.append("verdict\t\(category.rawValue)\t" + format(weights[Self.verdictRowStart + index]))
        }
        for (kind, values) in ClassifierModel.contextValues.enumerated() {
            for slot in 0...values.count {
                let value = slot == 0 ? "-" : values[slot - 1]
                lines.append(
                    "context\t\(ClassifierModel.contextKinds[kind])\t\(value)\t"
                        + format(weights[Self.contextRowStarts[kind] + slot]))
            }
        }
        // Sorted by name, so that a retrained file differs only where the weights do.
        let kept = names.indices.filter { index in
            let row = weights[Self.ngramRowStart + index]
            return (0..<categories.count).contains { abs(row[$0]) >= pruneBelow }
        }.sorted { names[$0] < names[$1] }
        for index in kept {
            lines.append("ngram\t\(names[index])\t" + format(weights[Self.ngramRowStart + index]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The category probabilities of each example of every batch, from a model trained on all
    /// the other batches (leave one batch out): how the model does on an author it never saw.
    public func crossValidate(_ batches: [(name: String, examples: [LabelledExample])]) throws -> [(
        batch: String, predictions: [Prediction]
    )] {
        try batches.indices.map { held in
            let training = batches.indices.filter { $0 != held }.flatMap { batches[$0].examples }
            let text = modelText(training: training, threshold: 0)
            let model = try ClassifierModel(text: text, source: "cross-validation")
            let classifier = try Classifier(rulesYAML: rulesYAML, source: rulesSource, model: model)
            return (batches[held].name, batches[held].examples.map { Prediction(example: $0, classifier: classifier) })
        }
    }

    /// The threshold that classifies `predictions` best (the highest among equals: when it makes
    /// no difference, a person decides).
    public static func bestThreshold(_ predictions: [Prediction], candidates: [Float] = stride(from: 0, through: 0.8, by: 0.02).map { $0 })
        -> (threshold: Float, accuracy: Double)
    {
        var best: (threshold: Float, accuracy: Double) = (0, -1)
        for threshold in candidates {
            let right = predictions.filter { $0.category(threshold: threshold) == $0.label }.count
            let accuracy = Double(right) / Double(max(predictions.count, 1))
            if accuracy >= best.accuracy { best = (threshold, accuracy) }
        }
        return best
    }

    /// A labelled example's outcome under a model trained without it.
    public struct Prediction: Sendable {
        /// The category a person assigned.
        public var label: Category
        /// The category decided with a threshold of 0.
        public var decided: Category
        /// The decided category's probability; 1 when a decisive rule decided.
        public var probability: Float

        init(example: LabelledExample, classifier: Classifier) {
            label = Category(rawValue: example.category)!
            let evidence = classifier.evidence(example.input)
            decided = evidence.classification.category
            if let logits = evidence.logits {
                let probabilities = ClassifierModel.probabilities(logits, categoryCount: Category.allCases.count)
                probability = probabilities.max()!
            } else {
                probability = 1
            }
        }

        /// The decided category when its probability reaches `threshold`, else `UNCLASSIFIED`.
        public func category(threshold: Float) -> Category { probability >= threshold ? decided : .unclassified }
    }

    /// Sparse features of one example: (weight row, value) pairs, and its label.
    private struct Sample {
        var features: [(row: Int, value: Float)]
        var label: Int
    }

    private func fit(_ examples: [LabelledExample]) -> (weights: [Row], names: [String]) {
        guard let rules else { preconditionFailure("a trainer without rules cannot fit") }
        let evidence = examples.map { rules.evidence($0.input) }
        // The vocabulary: n-grams in at least `minimumCount` examples, numbered in order of appearance.
        var documentCount: [UInt64: Int] = [:]
        var names: [String] = []
        var nameOf: [UInt64: String] = [:]
        for item in evidence {
            var seen = Set<UInt64>()
            item.forEachNgram { hash, name in
                if seen.insert(hash).inserted {
                    documentCount[hash, default: 0] += 1
                    if nameOf[hash] == nil {
                        nameOf[hash] = name
                        names.append(name)
                    }
                }
            }
        }
        names = names.filter { documentCount[TextFeatures.hash(of: $0.unicodeScalars.map(\.value))]! >= minimumCount }
        var rowOf: [UInt64: Int] = [:]
        for (index, name) in names.enumerated() {
            rowOf[TextFeatures.hash(of: name.unicodeScalars.map(\.value))] = Self.ngramRowStart + index
        }
        let categories = Category.allCases
        let samples = zip(examples, evidence).map { example, item -> Sample in
            var features: [(row: Int, value: Float)] = [(0, 1)]
            for (index, score) in item.ruleScores.enumerated() {
                if let score { features.append((Self.ruleRowStart + index, Float(score.score) / ClassifierModel.ruleScale)) }
            }
            if item.rulesVerdict >= 0 { features.append((Self.verdictRowStart + item.rulesVerdict, 1)) }
            let slots = [item.context.stage, item.context.visit, item.context.filing]
            for kind in slots.indices { features.append((Self.contextRowStarts[kind] + slots[kind], 1)) }
            let scale = ClassifierModel.textScale(max(item.ngramCount, 1))
            item.forEachNgram { hash, _ in
                if let row = rowOf[hash] { features.append((row, scale)) }
            }
            return Sample(features: features, label: categories.firstIndex(of: Category(rawValue: example.category)!)!)
        }
        return (adam(samples, rowCount: Self.ngramRowStart + names.count), names)
    }

    /// Full-batch Adam on the mean cross-entropy plus `l2` / 2 times the squared weights (the bias
    /// row is not penalised).
    private func adam(_ samples: [Sample], rowCount: Int) -> [Row] {
        let count = Self.categoryCount
        var weights = [Row](repeating: Row(), count: rowCount)
        var firstMoment = weights
        var secondMoment = weights
        let (beta1, beta2, epsilon): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        let inverseCount = 1 / Float(max(samples.count, 1))
        for step in 1...iterations {
            var gradient = [Row](repeating: Row(), count: rowCount)
            for sample in samples {
                var logits = Row()
                for feature in sample.features { logits += weights[feature.row] * feature.value }
                var maximum = -Float.infinity
                for lane in 0..<count { maximum = max(maximum, logits[lane]) }
                var error = Row()
                var sum: Float = 0
                for lane in 0..<count {
                    error[lane] = exp(logits[lane] - maximum)
                    sum += error[lane]
                }
                error /= Row(repeating: sum)
                error[sample.label] -= 1
                error *= inverseCount
                for feature in sample.features { gradient[feature.row] += error * feature.value }
            }
            let correction1 = 1 - pow(beta1, Float(step))
            let correction2 = 1 - pow(beta2, Float(step))
            for row in 0..<rowCount {
                var slope = gradient[row]
                if row > 0 { slope += weights[row] * l2 }
                firstMoment[row] = firstMoment[row] * beta1 + slope * (1 - beta1)
                secondMoment[row] = secondMoment[row] * beta2 + slope * slope * (1 - beta2)
                let mean = firstMoment[row] / correction1
                let variance = secondMoment[row] / correction2
                weights[row] -= learningRate * mean / (variance.squareRoot() + Row(repeating: epsilon))
            }
        }
        return weights
    }
}
