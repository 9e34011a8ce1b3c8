import Foundation

/// The trained half of the classifier: a multinomial logistic regression over the failure
/// text's character n-grams (`TextFeatures`), the report's context (stage, visit and filing
/// type) and the rules' per-category scores, read from `Config/classifier-model.tsv`.
///
/// The file is written by `baocuo rules train` from the labelled corpus; nothing is downloaded.
/// Its format, one record per line, tab-separated, `#` lines ignored:
///
///     format      1
///     categories  FILING_MISSING … UNCLASSIFIED          (the column order of every weight row)
///     threshold   0.35                                   (below it the report is UNCLASSIFIED)
///     bias        w₁ … w₁₂
///     rule        CATEGORY  w₁ … w₁₂                      (times that category's rule score / 8)
///     verdict     CATEGORY  w₁ … w₁₂                      (when the rules alone decide that category)
///     context     stage|visit|filing  VALUE|-  w₁ … w₁₂   (- : the field is absent)
///     ngram       TEXT  w₁ … w₁₂                          (TEXT in normal form, 1–3 characters)
public final class ClassifierModel: Sendable {
    /// The model file's name, next to `classification.yaml` in the configuration folder.
    public static let fileName = "classifier-model.tsv"
    /// Rule scores are divided by this before they meet their weights (the strongest rules weigh 8).
    static let ruleScale: Float = 8

    /// The first 16 hex digits of the file's SHA-256; part of `Classifier.rulesVersion`.
    public let version: String
    /// A report whose most probable category has a lower probability is UNCLASSIFIED.
    public let threshold: Float
    let bias: Row
    /// Indexed by the rules' category.
    let ruleWeights: [Row]
    /// Indexed by the category the rules alone decide (threshold and margin met).
    let verdictWeights: [Row]
    /// `contextWeights[kind][value + 1]`, value -1 meaning absent; kinds: stage, visit, filing.
    let contextWeights: [[Row]]
    let ngrams: NgramTable

    /// Weights of one feature, one lane per category in `Category.allCases` order (lanes past
    /// the categories are 0). Sixteen lanes fill one cache line and add in one vector step.
    typealias Row = SIMD16<Float>

    static let contextKinds = ["stage", "visit", "filing"]
    static let contextValues: [[String]] = [
        FailureStage.allCases.map(\.rawValue), VisitType.allCases.map(\.rawValue), FilingType.allCases.map(\.rawValue),
    ]

    init(
        version: String, threshold: Float, bias: Row, ruleWeights: [Row], verdictWeights: [Row], contextWeights: [[Row]],
        ngrams: NgramTable
    ) {
        self.version = version
        self.threshold = threshold
        self.bias = bias
        self.ruleWeights = ruleWeights
        self.verdictWeights = verdictWeights
        self.contextWeights = contextWeights
        self.ngrams = ngrams
    }

    /// Parses the model file; `source` names it in errors. Reads bytes in place (the file has
    /// about 12,000 n-gram lines of 12 numbers each; a worker loads it at start and on SIGHUP).
    public convenience init(text: String, source: String) throws(ConfigError) {
        let categories = Category.allCases
        var bytes = Array(text.utf8)
        bytes.append(0x0A)
        var parsed = Parsed(categoryCount: categories.count)
        var failure: ConfigError?
        bytes.withUnsafeMutableBufferPointer { buffer in
            var lineStart = 0
            var number = 0
            var fields: [Range<Int>] = []
            for index in buffer.indices where buffer[index] == 0x0A {
                number += 1
                defer { lineStart = index + 1 }
                guard index > lineStart, buffer[lineStart] != UInt8(ascii: "#") else { continue }
                // Fields end in a 0 byte (tab and newline replaced), so strtof stops at them.
                fields.removeAll(keepingCapacity: true)
                var fieldStart = lineStart
                for position in lineStart...index where position == index || buffer[position] == 0x09 {
                    fields.append(fieldStart..<position)
                    buffer[position] = 0
                    fieldStart = position + 1
                }
                do throws(Parsed.Problem) {
                    try parsed.record(fields.map { UnsafeBufferPointer(rebasing: buffer[$0]) }, categories: categories)
                } catch {
                    failure = ConfigError(file: source, line: number, reason: error.reason)
                    return
                }
            }
        }
        if let failure { throw failure }
        guard parsed.sawFormat, parsed.sawCategories, let threshold = parsed.threshold, let bias = parsed.bias else {
            throw ConfigError(file: source, reason: "a model needs format, categories, threshold and bias records")
        }
        guard let table = NgramTable(names: parsed.ngramNames, rows: parsed.ngramRows) else {
            throw ConfigError(file: source, reason: "an n-gram is listed twice, or there are more than \(NgramTable.maximumCount)")
        }
        self.init(
            version: shortDigest(of: text), threshold: threshold, bias: bias, ruleWeights: parsed.ruleWeights,
            verdictWeights: parsed.verdictWeights, contextWeights: parsed.contextWeights, ngrams: table)
    }

    /// The records of a model file as they are read.
    private struct Parsed {
        var threshold: Float?
        var bias: Row?
        var ruleWeights: [Row]
        var verdictWeights: [Row]
        var contextWeights = ClassifierModel.contextValues.map { [Row](repeating: Row(), count: $0.count + 1) }
        var ngramNames: [String] = []
        var ngramRows: [Row] = []
        var sawFormat = false
        var sawCategories = false

        struct Problem: Error {
            var reason: String
        }

        init(categoryCount: Int) {
            ruleWeights = [Row](repeating: Row(), count: categoryCount)
            verdictWeights = ruleWeights
        }

        /// One line's fields, each followed in memory by a 0 byte.
        mutating func record(_ fields: [UnsafeBufferPointer<UInt8>], categories: [Category]) throws(Problem) {
            func text(_ index: Int) -> String { String(decoding: fields[index], as: UTF8.self) }
            func weights(from start: Int) throws(Problem) -> Row {
                guard fields.count == start + categories.count else {
                    throw Problem(reason: "expected \(categories.count) weights after \(start) fields, found \(fields.count - start)")
                }
                var row = Row()
                for lane in 0..<categories.count {
                    let field = fields[start + lane]
                    var end: UnsafeMutablePointer<CChar>?
                    let value = field.baseAddress!.withMemoryRebound(to: CChar.self, capacity: field.count + 1) { strtof($0, &end) }
                    guard !field.isEmpty, UnsafeRawPointer(end) == UnsafeRawPointer(field.baseAddress! + field.count), value.isFinite else {
                        throw Problem(reason: "weight \"\(text(start + lane))\" is not a number")
                    }
                    row[lane] = value
                }
                return row
            }
            let kind = text(0)
            switch kind {
            case "format":
                guard fields.count == 2, text(1) == "1" else { throw Problem(reason: "unsupported format; this version reads format 1") }
                sawFormat = true
            case "categories":
                guard (1..<fields.count).map(text) == categories.map(\.rawValue) else {
                    throw Problem(
                        reason: "the categories must be the taxonomy's, in order: "
                            + categories.map(\.rawValue).joined(separator: " "))
                }
                sawCategories = true
            case "threshold":
                guard fields.count == 2, let value = Float(text(1)), value >= 0, value < 1 else {
                    throw Problem(reason: "threshold must be a number in [0, 1)")
                }
                threshold = value
            case "bias":
                bias = try weights(from: 1)
            case "rule", "verdict":
                guard fields.count > 1, let category = Category(rawValue: text(1)) else { throw Problem(reason: "unknown category") }
                let row = try weights(from: 2)
                if kind == "rule" {
                    ruleWeights[categories.firstIndex(of: category)!] = row
                } else {
                    verdictWeights[categories.firstIndex(of: category)!] = row
                }
            case "context":
                guard fields.count > 2, let contextKind = ClassifierModel.contextKinds.firstIndex(of: text(1)) else {
                    throw Problem(reason: "context kind must be one of \(ClassifierModel.contextKinds.joined(separator: ", "))")
                }
                let value = text(2)
                let slot: Int
                if value == "-" {
                    slot = 0
                } else if let index = ClassifierModel.contextValues[contextKind].firstIndex(of: value) {
                    slot = index + 1
                } else {
                    throw Problem(reason: "unknown \(text(1)) \"\(value)\"")
                }
                contextWeights[contextKind][slot] = try weights(from: 3)
            case "ngram":
                guard fields.count > 1 else { throw Problem(reason: "an ngram record needs its text") }
                let name = text(1)
                guard (1...TextFeatures.maximumLength).contains(name.unicodeScalars.count), MessageNormalizer.normalize(name) == name else {
                    throw Problem(reason: "ngram \"\(name)\" must be 1–\(TextFeatures.maximumLength) characters in normal form")
                }
                ngramNames.append(name)
                ngramRows.append(try weights(from: 2))
            default:
                throw Problem(reason: "unknown record \"\(kind)\"")
            }
        }
    }

    /// The model's score (logit) per category for a report: `code` and `message` in normal
    /// form, `context` the slot of each context kind (0: absent), `ruleScores` one per category,
    /// `rulesVerdict` the category the rules alone decide (-1: none).
    @inline(__always)
    func logits(
        code: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>, context: ContextSlots,
        ruleScores: UnsafeBufferPointer<Score>, rulesVerdict: Int
    ) -> Row {
        var text = Row()
        var count = 0
        ngrams.rows.withUnsafeBufferPointer { rows in
            // Two calls rather than a loop over [code, message]: no array per report.
            let table = ngrams
            func add(_ hash: UInt64, _: Int, _: Int) {
                count += 1
                if let row = table.row(for: hash) { text += rows[row] }
            }
            TextFeatures.forEach(in: code, add)
            TextFeatures.forEach(in: message, add)
        }
        var total = bias
        if count > 0 { total += text * Self.textScale(count) }
        for category in ruleScores.indices where ruleScores[category].rule >= 0 {
            total += ruleWeights[category] * (Float(ruleScores[category].total) / Self.ruleScale)
        }
        if rulesVerdict >= 0 { total += verdictWeights[rulesVerdict] }
        total += contextWeights[0][context.stage] + contextWeights[1][context.visit] + contextWeights[2][context.filing]
        return total
    }

    /// Text features are scaled so that their vector has unit length: a long stack trace and a
    /// four-character code weigh alike.
    @inline(__always)
    static func textScale(_ count: Int) -> Float { 1 / Float(count).squareRoot() }

    /// Softmax over the category lanes.
    static func probabilities(_ logits: Row, categoryCount: Int) -> [Float] {
        var maximum = -Float.infinity
        for lane in 0..<categoryCount { maximum = max(maximum, logits[lane]) }
        var values = (0..<categoryCount).map { exp(logits[$0] - maximum) }
        let sum = values.reduce(0, +)
        for index in values.indices { values[index] /= sum }
        return values
    }
}

/// Each context field as the slot of its value in the model's context rows (0: absent).
struct ContextSlots {
    var stage = 0
    var visit = 0
    var filing = 0

    init(_ bits: ContextBits) {
        stage = Self.slot(bits.stage)
        visit = Self.slot(bits.visit)
        filing = Self.slot(bits.filing)
    }

    @inline(__always)
    private static func slot(_ bit: UInt16) -> Int { bit == 0 ? 0 : bit.trailingZeroBitCount + 1 }
}

/// The model's n-grams: a `PackedHashTable` from the top 48 bits of an n-gram's hash to its
/// weight row. Lookups of n-grams the model does not know (most of them) end at an empty slot.
struct NgramTable: Sendable {
    /// Rows are 16-bit values in the table.
    static let maximumCount = Int(UInt16.max)

    let names: [String]
    let rows: [ClassifierModel.Row]
    private let index: PackedHashTable

    /// Nil when two names have the same hash (a name listed twice) or there are too many.
    init?(names: [String], rows: [ClassifierModel.Row]) {
        guard names.count <= Self.maximumCount else { return nil }
        var index = PackedHashTable(capacity: names.count)
        for (row, name) in names.enumerated() {
            let key = TextFeatures.hash(of: name.unicodeScalars.map(\.value)) >> 16
            guard index.value(for: key) == nil else { return nil }
            index.insert(UInt16(row), for: key)
        }
        self.names = names
        self.rows = rows
        self.index = index
    }

    @inline(__always)
    func row(for hash: UInt64) -> Int? {
        index.value(for: hash >> 16).map(Int.init)
    }
}
