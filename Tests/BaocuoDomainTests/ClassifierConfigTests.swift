import BaocuoDomain
import Testing

/// Loading the rules: versioning and the errors an operator gets for a broken file.
struct ClassifierConfigTests {
    /// A complete, small rules file; tests break one thing at a time.
    static let minimal = """
        format: 1
        decision:
          threshold: 3
          margin: 1
        terms:
          filing: [备案]
        categories:
        \(Category.allCases.map { "  \($0.rawValue):\n    actions: [处理\($0.rawValue)]" }.joined(separator: "\n"))
        rules:
          - id: missing
            category: FILING_MISSING
            weight: 5
            all: [filing, [未, 无]]
          - id: timeout
            category: SYSTEM_FAULT
            weight: 6
            any: [超时]
        boosts:
          - category: CREDENTIAL
            stages: [card-read]
            add: 1
        """

    func configError(_ yaml: String) -> ConfigError? {
        do {
            _ = try Classifier(rulesYAML: yaml, source: "rules.yaml")
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    /// The 1-based line of the first line of `yaml` containing `text`.
    func line(of text: String, in yaml: String) -> Int? {
        yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }.map { $0 + 1 }
    }

    @Test func minimalRulesClassify() throws {
        let classifier = try Classifier(rulesYAML: Self.minimal, source: "rules.yaml")
        #expect(
            classifier.classify(ClassificationInput(failureMessage: "未备案")) == Classification(category: .filingMissing, ruleId: "missing"))
        #expect(classifier.classify(ClassificationInput(failureMessage: "备案查询超时")).category == .systemFault)
        #expect(classifier.actions(for: .credential) == ["处理CREDENTIAL"])
    }

    @Test func rulesVersionIsADigestOfTheText() throws {
        let first = try Classifier(rulesYAML: Self.minimal, source: "a.yaml")
        let again = try Classifier(rulesYAML: Self.minimal, source: "b.yaml")
        let edited = try Classifier(rulesYAML: Self.minimal.replacingOccurrences(of: "weight: 6", with: "weight: 7"), source: "a.yaml")
        #expect(first.rulesVersion == again.rulesVersion)
        #expect(first.rulesVersion != edited.rulesVersion)
        #expect(first.rulesVersion.count == 16)
        #expect(first.rulesVersion.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }

    @Test func repositoryRulesHaveAVersion() {
        #expect(ClassifierFixtures.classifier.rulesVersion.count == 16)
    }

    @Test func malformedYAMLReportsItsLine() throws {
        let broken = Self.minimal.replacingOccurrences(of: "weight: 6\n", with: "weight: 6\n    any: [超时\n")
        let error = try #require(configError(broken))
        #expect(error.file == "rules.yaml")
        let reported = try #require(error.line)
        #expect(reported >= line(of: "any: [超时", in: broken)!)
        #expect(error.description.hasPrefix("rules.yaml:\(reported): invalid YAML"))
    }

    @Test func unknownCategoryIsAnErrorAtItsLine() throws {
        let yaml = Self.minimal.replacingOccurrences(of: "category: SYSTEM_FAULT", with: "category: SYSTEM_FAILURE")
        let error = try #require(configError(yaml))
        #expect(error.line == line(of: "SYSTEM_FAILURE", in: yaml))
        #expect(error.reason.contains("unknown category SYSTEM_FAILURE"))
    }

    /// Each edit breaks `minimal` in one place; the error must point at the last line that
    /// contains `marker` (for the duplicate id, the second rule) and say `reason`.
    @Test(arguments: [
        (old: "  margin: 1", new: "  margin: -1", marker: "margin: -1", reason: "margin"),
        (old: "format: 1", new: "format: 2", marker: "format: 2", reason: "unsupported format"),
        (old: "all: [filing, [未, 无]]", new: "all: [filings, [未, 无]]", marker: "filings", reason: "not a term set"),
        (old: "any: [超时]", new: "any: [\"、。\"]", marker: "、。", reason: "empty"),
        (old: "any: [超时]", new: "anyy: [超时]", marker: "anyy", reason: "unknown key anyy"),
        (old: "    stages: [card-read]", new: "    stages: [card_read]", marker: "card_read", reason: "unknown value card_read"),
        (old: "  - id: timeout", new: "  - id: missing", marker: "- id: missing", reason: "already used"),
        (
            old: "category: SYSTEM_FAULT", new: "category: UNCLASSIFIED", marker: "category: UNCLASSIFIED",
            reason: "cannot target UNCLASSIFIED"
        ),
        (old: "    weight: 6", new: "    weight: high", marker: "weight: high", reason: "number"),
        (old: "    any: [超时]", new: "    stages: [settlement]", marker: "- id: timeout", reason: "needs keywords"),
    ])
    func brokenRuleIsReportedWhereItIs(_ edit: (old: String, new: String, marker: String, reason: String)) throws {
        #expect(Self.minimal.contains(edit.old))
        let yaml = Self.minimal.replacingOccurrences(of: edit.old, with: edit.new)
        let error = try #require(configError(yaml))
        let expectedLine = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            .lastIndex { $0.contains(edit.marker) }
            .map { $0 + 1 }
        #expect(error.line == expectedLine, "\(error)")
        #expect(error.reason.contains(edit.reason), "\(error)")
    }

    @Test func categoryWithoutActionsIsAnError() throws {
        let yaml = Self.minimal.replacingOccurrences(of: "  UNCLASSIFIED:\n    actions: [处理UNCLASSIFIED]", with: "")
        let error = try #require(configError(yaml))
        #expect(error.reason.contains("UNCLASSIFIED has no actions"))
    }

    @Test func emptyFileIsAnError() throws {
        let error = try #require(configError(""))
        #expect(error.description == "rules.yaml: the rules file is empty")
    }

    @Test func duplicateKeyIsAnErrorWithItsLine() throws {
        let yaml = Self.minimal.replacingOccurrences(of: "  margin: 1", with: "  margin: 1\n  margin: 2")
        let error = try #require(configError(yaml))
        #expect(error.line != nil)
        #expect(error.reason.contains("duplicate key margin"))
    }
}
