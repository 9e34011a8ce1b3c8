import ArgumentParser
import BaocuoDomain
import BaocuoObservability
import BaocuoPipeline
import Foundation

/// `baocuo rules …`: the classifier's model and its measurement.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Train and evaluate the classifier (classification.yaml + classifier-model.tsv).",
        subcommands: [RulesTrainCommand.self, RulesEvalCommand.self, RulesCorrectionsCommand.self]
    )
}

/// Reads labelled corpus files (JSON lines of `LabelledExample`), failing with the file and line.
func loadLabelled(_ path: String) throws -> [LabelledExample] {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        throw RuntimeError("cannot read \(path)")
    }
    do {
        return try LabelledExample.load(jsonLines: text, source: path)
    } catch {
        throw RuntimeError("\(error)")
    }
}

struct RulesTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train classifier-model.tsv from the labelled corpus (deterministic: same corpus and rules, same file).",
        discussion: """
            Every *.jsonl file of --corpus is one author's batch. Before the final training, each batch is \
            classified by a model trained on the other batches (leave one batch out); the threshold below which \
            a report is UNCLASSIFIED is the one that does best there. Prints those figures, writes the model.
            """
    )

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .long, help: "Folder of training batches (*.jsonl).")
    var corpus = "Tests/Corpus/train"

    @Option(name: .long, help: "Where to write the model (default: classifier-model.tsv in the configuration folder).")
    var output: String?

    @Option(name: .long, help: "L2 penalty on the weights.")
    var l2: Float = ModelTrainer().l2

    @Option(name: .long, help: "An n-gram becomes a feature when this many training examples contain it.")
    var minCount = ModelTrainer().minimumCount

    @Option(name: .long, help: "Optimisation steps (fewer steps keep the weights smaller).")
    var iterations = ModelTrainer().iterations

    func run() throws {
        let directory = configOptions.config ?? DomainConfiguration.defaultDirectory()
        let rulesPath = DomainConfiguration.path(directory, DomainConfiguration.rulesFile)
        let rulesYAML: String
        do {
            rulesYAML = try DomainConfiguration.read(rulesPath)
        } catch {
            throw RuntimeError("\(error)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".jsonl") }.sorted()
        guard !files.isEmpty else { throw RuntimeError("no *.jsonl batches in \(corpus)") }
        let batches = try files.map { (name: String($0.dropLast(6)), examples: try loadLabelled(corpus + "/" + $0)) }
        var trainer = try ModelTrainer(rulesYAML: rulesYAML, rulesSource: rulesPath)
        trainer.l2 = l2
        trainer.minimumCount = minCount
        trainer.iterations = iterations

        print("leave-one-batch-out (each batch by a model trained on the others):")
        let folds = try trainer.crossValidate(batches)
        let all = folds.flatMap(\.predictions)
        let (threshold, accuracy) = ModelTrainer.bestThreshold(all)
        for fold in folds {
            let right = fold.predictions.filter { $0.category(threshold: threshold) == $0.label }.count
            print("  \(fold.batch): \(right)/\(fold.predictions.count) = \(percent(Double(right) / Double(fold.predictions.count)))")
        }
        print("  all: \(percent(accuracy)) with threshold \(String(format: "%.2f", threshold))")

        let examples = batches.flatMap(\.examples)
        let header = [
            "Baocuo classifier model, written by `baocuo rules train` (do not edit by hand).",
            "corpus: \(batches.map { "\($0.name) (\($0.examples.count))" }.joined(separator: ", ")); rules \(rulesPath)",
            "leave-one-batch-out accuracy \(percent(accuracy)) at threshold \(String(format: "%.2f", threshold))",
        ]
        let text = trainer.modelText(training: examples, threshold: threshold, header: header)
        let destination = output ?? directory + "/" + ClassifierModel.fileName
        try text.write(toFile: destination, atomically: true, encoding: .utf8)
        let ngrams = text.split(separator: "\n").filter { $0.hasPrefix("ngram\t") }.count
        print("wrote \(destination): \(examples.count) examples, \(ngrams) n-grams, threshold \(String(format: "%.2f", threshold))")
    }
}

struct RulesEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Accuracy, per-category precision and recall, and the confusion matrix on labelled reports.",
        discussion: "Exit 0; 1 when --min-accuracy is given and not reached."
    )

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .long, help: "A labelled file (JSON lines: id, category, stage, visit, filing, code, message). Repeatable.")
    var labelled: [String]

    @Flag(name: .long, help: "One JSON object instead of the table.")
    var json = false

    @Flag(name: .long, help: "List every wrongly classified example.")
    var misses = false

    @Option(name: .long, help: "Fail (exit 1) below this accuracy, in percent.")
    var minAccuracy: Double?

    func validate() throws {
        guard !labelled.isEmpty else { throw ValidationError("give at least one --labelled FILE") }
    }

    func run() throws {
        let configuration = try configOptions.load()
        let examples = try labelled.flatMap(loadLabelled)
        let evaluation = ClassifierEvaluation(examples: examples, classifier: configuration.classifier)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(evaluation), as: UTF8.self))
        } else {
            print(render(evaluation, version: configuration.classifier.rulesVersion))
        }
        if let minAccuracy, evaluation.accuracy * 100 < minAccuracy {
            var errorStream = StandardError()
            print("baocuo: accuracy \(percent(evaluation.accuracy)) is below the floor of \(minAccuracy) %", to: &errorStream)
            throw ExitCode(1)
        }
    }

    /// Column headings of the confusion matrix, five characters at most.
    private static func abbreviation(_ category: Category) -> String {
        switch category {
        case .filingMissing: "FMISS"
        case .filingExpired: "FEXP"
        case .filingMismatch: "FMISM"
        case .insuredStatus: "INSUR"
        case .benefitNotEligible: "BENEF"
        case .catalogMapping: "CATAL"
        case .institutionNotEnabled: "INSTI"
        case .credential: "CRED"
        case .settlementConflict: "SETTL"
        case .systemFault: "SYST"
        case .emergencyUnfiled: "EMERG"
        case .unclassified: "UNCL"
        }
    }

    private func render(_ evaluation: ClassifierEvaluation, version: String) -> String {
        let abbreviations = Category.allCases.map(Self.abbreviation)
        var lines = ["rules \(version): \(evaluation.correct)/\(evaluation.examples) right, accuracy \(percent(evaluation.accuracy))", ""]
        lines.append("category                   abbr  support  precision  recall")
        for (index, figures) in evaluation.categories.enumerated() {
            lines.append(
                figures.category.padding(toLength: 27, withPad: " ", startingAt: 0)
                    + abbreviations[index].padding(toLength: 6, withPad: " ", startingAt: 0)
                    + String(format: "%7d  %9.3f  %6.3f", figures.support, figures.precision, figures.recall))
        }
        lines.append("")
        lines.append("confusion (rows: label, columns: decided)")
        lines.append("       " + abbreviations.map { $0.padding(toLength: 6, withPad: " ", startingAt: 0) }.joined())
        for (index, row) in evaluation.confusion.enumerated() {
            lines.append(
                abbreviations[index].padding(toLength: 7, withPad: " ", startingAt: 0)
                    + row.map { ($0 == 0 ? "." : String($0)).padding(toLength: 6, withPad: " ", startingAt: 0) }.joined())
        }
        if misses {
            lines.append("")
            lines.append("misses:")
            for miss in evaluation.misses { lines.append("  \(miss.id): \(miss.label) decided \(miss.decided) (\(miss.rule))") }
        }
        return lines.joined(separator: "\n")
    }
}

struct RulesCorrectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrections",
        abstract: "Export agencies' category corrections as labelled lines for the next training run.",
        discussion: """
            Reads the resolutions that carry a corrected "category" (CONTRACT §5) and count (the resolving agency \
            owns the report), and the reports' owner copies in the inboxes, and writes one labelled line per \
            corrected report (the corpus format of Tests/Corpus/README.md; anything shaped like a person ID \
            masked). Add the file to the training corpus, run `baocuo rules train`, review, deploy.
            """
    )

    @OptionGroup var brokerOptions: BrokerOptions
    @OptionGroup var configOptions: ConfigOptions

    @Option(
        name: .long, help: "Only corrections recorded at or after this RFC 3339 time.",
        transform: { text in
            guard let time = Timestamp.parseRFC3339(text) else { throw ValidationError("--since: not an RFC 3339 timestamp: \(text)") }
            return time
        })
    var since: Timestamp = Timestamp(millisecondsSinceEpoch: 0)

    @Option(name: .long, help: "Output file (default: stdout).")
    var output: String?

    func run() async throws {
        let configuration = try configOptions.load()
        let settings = configuration.settings
        let logger = LoggingSetup.bootstrap(settings: settings, label: "baocuo.rules", level: .warning)
        let reader = TopicReader(brokers: try brokerOptions.resolve(settings), logger: logger, properties: settings.kafka.properties)
        let corrections = try await CorrectionExport.read(
            reader: reader, names: TopicNames(prefix: settings.topicPrefix),
            sharedTopicUntil: settings.resolutions.sharedTopicUntil, since: since)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = ""
        for correction in corrections {
            var example = correction.example
            example.code = example.code.map(PersonIDRedactor.redact)
            example.message = example.message.map(PersonIDRedactor.redact)
            lines += String(decoding: try encoder.encode(example), as: UTF8.self) + "\n"
        }
        if let output {
            try lines.write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            print(lines, terminator: "")
        }
        var errorStream = StandardError()
        print("\(corrections.count) corrected report(s) exported", to: &errorStream)
    }
}

func percent(_ fraction: Double) -> String { String(format: "%.1f %%", fraction * 100) }

/// A failure while a command runs (a file, a broker, a topic), as opposed to a usage error.
