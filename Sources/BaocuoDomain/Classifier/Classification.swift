/// The fields of a report the classifier reads (CONTRACT §4).
///
/// Kept separate from the full report so the classifier depends only on what it uses.
public struct ClassificationInput: Sendable {
    /// `failure.code`; nil when absent or empty.
    public var failureCode: String?
    /// `failure.message`; nil when absent or empty.
    public var failureMessage: String?
    /// `failure.stage`; nil when absent.
    public var failureStage: FailureStage?
    /// `visit.type`; nil when absent.
    public var visitType: VisitType?
    /// `filing.type`; nil when absent.
    public var filingType: FilingType?

    /// An input from the report's fields; nil means absent.
    public init(
        failureCode: String? = nil,
        failureMessage: String? = nil,
        failureStage: FailureStage? = nil,
        visitType: VisitType? = nil,
        filingType: FilingType? = nil
    ) {
        self.failureCode = failureCode
        self.failureMessage = failureMessage
        self.failureStage = failureStage
        self.visitType = visitType
        self.filingType = filingType
    }
}

/// The outcome of classification: the category and the id of the rule that decided it
/// (`Classifier.unclassifiedRuleId` when no rule was confident).
public struct Classification: Sendable, Equatable {
    /// The decided category.
    public var category: Category
    /// The id of the deciding rule from `classification.yaml`, `Classifier.modelRuleId` or `Classifier.unclassifiedRuleId`.
    public var ruleId: String

    /// A classification as `category` by rule `ruleId`.
    public init(category: Category, ruleId: String) {
        self.category = category
        self.ruleId = ruleId
    }
}

extension Report {
    /// The fields the classifier reads, as strings (off the hot path: explanation, corrections).
    public var classificationInput: ClassificationInput {
        ClassificationInput(
            failureCode: failureCode, failureMessage: failureMessage, failureStage: failureStage,
            visitType: visitType, filingType: filingType)
    }
}
