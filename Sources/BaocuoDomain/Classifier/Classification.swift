/// The fields of a report the classifier reads (CONTRACT §4).
///
/// Kept separate from the full report so the classifier depends only on what it uses.
public struct ClassificationInput: Sendable {
    public var failureCode: String?
    public var failureMessage: String?
    public var failureStage: FailureStage?
    public var visitType: VisitType?
    public var filingType: FilingType?

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
    public var category: Category
    public var ruleId: String

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
