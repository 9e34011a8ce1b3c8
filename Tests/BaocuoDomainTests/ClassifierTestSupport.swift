import BaocuoDomain
import Foundation

/// Shared access to the repository's rules file and the classifier fixtures.
enum ClassifierFixtures {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixturesDirectory = testsDirectory.appendingPathComponent("Fixtures/classifier")
    static let configDirectory = testsDirectory.appendingPathComponent("../../Config").standardized
    static let rulesURL = configDirectory.appendingPathComponent("classification.yaml")

    static func rulesText() throws -> String {
        try String(contentsOf: rulesURL, encoding: .utf8)
    }

    /// The classifier of `Config/` (its rules and its model), built once per test process.
    static let classifier: Classifier = {
        do {
            return try DomainConfiguration.load(directory: configDirectory.path, environment: [:]).classifier
        } catch {
            fatalError("Config/ does not load: \(error)")
        }
    }()

    /// The rules of `Config/classification.yaml` alone, without the model.
    static let rulesOnly: Classifier = {
        do {
            return try Classifier(rulesYAML: rulesText(), source: rulesURL.path)
        } catch {
            fatalError("Config/classification.yaml does not load: \(error)")
        }
    }()

    /// Lines of a fixture file as raw bytes (one sample line is deliberately not UTF-8).
    static func lines(_ name: String) throws -> [Data] {
        let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Data($0) }
    }

    /// The classifier's input fields of a report-v1 JSON object.
    static func input(fromReport object: [String: Any]) -> ClassificationInput {
        let failure = object["failure"] as? [String: Any] ?? [:]
        let visit = object["visit"] as? [String: Any] ?? [:]
        let filing = object["filing"] as? [String: Any] ?? [:]
        return ClassificationInput(
            failureCode: failure["code"] as? String,
            failureMessage: failure["message"] as? String,
            failureStage: (failure["stage"] as? String).flatMap(FailureStage.init(rawValue:)),
            visitType: (visit["type"] as? String).flatMap(VisitType.init(rawValue:)),
            filingType: (filing["type"] as? String).flatMap(FilingType.init(rawValue:))
        )
    }
}
