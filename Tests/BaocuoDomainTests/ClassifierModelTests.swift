import BaocuoDomain
import Foundation
import Testing

/// The trained model: its file format, training, the combination with the rules, explanation,
/// and the labelled corpus it is trained on.
struct ClassifierModelTests {
    static let corpusDirectory = ClassifierFixtures.testsDirectory.appendingPathComponent("../Corpus").standardized

    static func corpus(_ folder: String) throws -> [(name: String, examples: [LabelledExample])] {
        let directory = corpusDirectory.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".jsonl") }.sorted()
            .map { file in
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                return (file, try LabelledExample.load(jsonLines: text, source: file))
            }
    }

    static let header =
        "format\t1\ncategories\t" + Category.allCases.map(\.rawValue).joined(separator: "\t") + "\n"
        + "threshold\t0.3\nbias\t" + Array(repeating: "0", count: Category.allCases.count).joined(separator: "\t") + "\n"

    static func weights(favouring category: Category, by amount: Double = 5) -> String {
        Category.allCases.map { $0 == category ? String(amount) : "0" }.joined(separator: "\t")
    }

    @Test func modelFileMistakesNameTheirLine() {
        let bad: [(String, Int, String)] = [
            (Self.header + "ngram\t过期\t1\t2\n", 5, "expected 12 weights"),
            (Self.header + "rule\tNOPE\t" + Self.weights(favouring: .credential) + "\n", 5, "unknown category"),
            (
                Self.header + "ngram\t备案\t" + Self.weights(favouring: .filingMissing) + "\nngram\t备案\t"
                    + Self.weights(favouring: .filingMissing) + "\n", 0, "listed twice"
            ),
            (Self.header + "ngram\tAB\t" + Self.weights(favouring: .credential) + "\n", 5, "normal form"),
            (Self.header + "context\tstage\tnowhere\t" + Self.weights(favouring: .credential) + "\n", 5, "unknown stage"),
            (Self.header.replacingOccurrences(of: "threshold\t0.3", with: "threshold\t1.5"), 3, "threshold"),
            ("format\t2\n", 1, "unsupported format"),
        ]
        for (text, line, reason) in bad {
            do {
                _ = try ClassifierModel(text: text, source: "model.tsv")
                Issue.record("accepted: \(reason)")
            } catch {
                #expect(error.line == (line == 0 ? nil : line), "\(reason)")
                #expect(error.reason.contains(reason), "\(error.reason)")
            }
        }
    }

    @Test func modelDecidesWhatTheRulesCannot() throws {
        let rules = try ClassifierFixtures.rulesText()
        let input = ClassificationInput(failureMessage: "读头接触不良")  // no rule knows this phrase
        #expect(ClassifierFixtures.rulesOnly.classify(input).category == .unclassified)
        let text = Self.header + "ngram\t读头\t" + Self.weights(favouring: .credential, by: 20) + "\n"
        let model = try ClassifierModel(text: text, source: "model.tsv")
        let classifier = try Classifier(rulesYAML: rules, source: "rules", model: model)
        #expect(classifier.classify(input) == Classification(category: .credential, ruleId: Classifier.modelRuleId))
        // Below the threshold: genuinely uncertain.
        #expect(classifier.classify(ClassificationInput(failureMessage: "失败")).category == .unclassified)
        // The version names the rules and the model together.
        #expect(classifier.rulesVersion != ClassifierFixtures.rulesOnly.rulesVersion)
        #expect(classifier.rulesVersion.count == 16)
    }

    @Test func decisiveRulesOverrideTheModel() throws {
        // A model that would always say FILING_EXPIRED.
        let text = Self.header.replacingOccurrences(
            of: "bias\t" + Array(repeating: "0", count: Category.allCases.count).joined(separator: "\t"),
            with: "bias\t" + Self.weights(favouring: .filingExpired, by: 50))
        let classifier = try Classifier(
            rulesYAML: ClassifierFixtures.rulesText(), source: "rules",
            model: ClassifierModel(text: text, source: "model.tsv"))
        let emergency = ClassificationInput(failureMessage: "急诊抢救患者未办理异地备案", visitType: .emergency)
        #expect(classifier.classify(emergency).category == .emergencyUnfiled)
        #expect(classifier.explain(emergency).decidedBy == "decisive-rule")
        #expect(classifier.classify(ClassificationInput(failureMessage: "读卡失败")).category == .filingExpired)
    }

    @Test func explanationNamesRulesProbabilitiesAndFeatures() {
        let explanation = ClassifierFixtures.classifier.explain(
            ClassificationInput(failureCode: "1101", failureMessage: "查无该参保人异地就医备案信息", failureStage: .registration))
        #expect(explanation.decidedBy == "model")
        #expect(explanation.category == Category.filingMissing.rawValue)
        #expect(explanation.probabilities.first?.name == Category.filingMissing.rawValue)
        #expect(explanation.rules.contains { $0.name.hasPrefix("FILING_MISSING ") })
        #expect(explanation.features.count == 8)
        #expect(explanation.features.contains { $0.name.hasPrefix("text \"") })
    }

    @Test func trainingIsDeterministicAndLearnsItsExamples() throws {
        var trainer = try ModelTrainer(rulesYAML: ClassifierFixtures.rulesText(), rulesSource: "rules")
        trainer.iterations = 60
        trainer.minimumCount = 1
        let examples = [
            LabelledExample(id: "1", category: .credential, input: ClassificationInput(failureMessage: "读头接触不良")),
            LabelledExample(id: "2", category: .credential, input: ClassificationInput(failureMessage: "读头没反应")),
            LabelledExample(id: "3", category: .systemFault, input: ClassificationInput(failureMessage: "网关502")),
            LabelledExample(id: "4", category: .systemFault, input: ClassificationInput(failureMessage: "网关504超时")),
        ]
        let first = trainer.modelText(training: examples, threshold: 0.3)
        #expect(first == trainer.modelText(training: examples, threshold: 0.3))
        let classifier = try Classifier(
            rulesYAML: ClassifierFixtures.rulesText(), source: "rules",
            model: ClassifierModel(text: first, source: "trained"))
        for example in examples {
            #expect(classifier.classify(example.input).category.rawValue == example.category, "\(example.id)")
        }
    }

    /// The corpus the shipped model is trained on and evaluated with (Tests/Corpus/README.md).
    @Test func corpusHasEveryCategoryFromManyAuthors() throws {
        let training = try Self.corpus("train")
        let evaluation = try Self.corpus("eval")
        #expect(training.count >= 5)
        #expect(evaluation.count >= 2)
        #expect(evaluation.allSatisfy { $0.examples.count >= 150 })
        let all = (training + evaluation).flatMap(\.examples)
        #expect(all.count >= 1_500)
        #expect(Set(all.map(\.id)).count == all.count)
        for category in Category.allCases {
            #expect(all.filter { $0.category == category.rawValue }.count >= 80, "\(category.rawValue)")
        }
    }

    @Test func corpusLinesWithUnknownValuesAreRefused() {
        let lines = [
            (#"{"id":"x","category":"NOPE","message":"m"}"#, "unknown category"),
            (#"{"id":"x","category":"CREDENTIAL","stage":"nowhere","message":"m"}"#, "unknown stage"),
            (#"{"id":"x","message":"m"}"#, "not a labelled example"),
        ]
        for (line, reason) in lines {
            #expect(throws: ConfigError.self, "\(reason)") { _ = try LabelledExample.load(jsonLines: line, source: "c.jsonl") }
        }
    }
}
