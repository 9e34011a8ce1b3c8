/// How a classifier does on labelled examples: accuracy, per-category precision and recall,
/// and the confusion matrix (`baocuo rules eval`).
public struct ClassifierEvaluation: Sendable, Codable {
    /// How many labelled examples were classified.
    public var examples: Int
    /// How many of them got their label.
    public var correct: Int
    /// `correct / examples` (0 without examples).
    public var accuracy: Double { examples == 0 ? 0 : Double(correct) / Double(examples) }
    /// One entry per category, in taxonomy order.
    public var categories: [CategoryFigures]
    /// `confusion[label][decided]`, both in taxonomy order.
    public var confusion: [[Int]]
    /// The examples decided wrongly: id, label, decision, rule.
    public var misses: [Miss]

    /// Precision and recall of one category.
    public struct CategoryFigures: Sendable, Codable {
        /// The category's wire id.
        public var category: String
        /// Examples labelled with the category.
        public var support: Int
        /// Of the examples decided as the category, the fraction labelled with it (0 when none were).
        public var precision: Double
        /// Of the examples labelled with the category, the fraction decided as it (0 without support).
        public var recall: Double
    }

    /// One example decided wrongly.
    public struct Miss: Sendable, Codable {
        /// The example's id in the corpus.
        public var id: String
        /// The category a person assigned (wire id).
        public var label: String
        /// The category the classifier decided (wire id).
        public var decided: String
        /// The id of the rule that decided it.
        public var rule: String
    }

    /// Classifies every example with `classifier` and compares with its label.
    public init(examples labelled: [LabelledExample], classifier: Classifier) {
        let categories = Category.allCases
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: categories.count), count: categories.count)
        var misses: [Miss] = []
        for example in labelled {
            let label = Category(rawValue: example.category)!
            let decision = classifier.classify(example.input)
            confusion[categories.firstIndex(of: label)!][categories.firstIndex(of: decision.category)!] += 1
            if decision.category != label {
                misses.append(Miss(id: example.id, label: label.rawValue, decided: decision.category.rawValue, rule: decision.ruleId))
            }
        }
        examples = labelled.count
        correct = categories.indices.reduce(0) { $0 + confusion[$1][$1] }
        self.confusion = confusion
        self.misses = misses
        self.categories = categories.indices.map { index in
            let support = confusion[index].reduce(0, +)
            let decided = confusion.reduce(0) { $0 + $1[index] }
            let right = confusion[index][index]
            return CategoryFigures(
                category: categories[index].rawValue, support: support,
                precision: decided == 0 ? 0 : Double(right) / Double(decided),
                recall: support == 0 ? 0 : Double(right) / Double(support))
        }
    }
}
