/// Closed vocabularies of report v1 (CONTRACT §2). Raw values are the wire spellings.

/// `insured.insuranceType`: employee or resident basic medical insurance.
public enum InsuranceType: String, Sendable, CaseIterable {
    case employee
    case resident
}

/// `insured.filingType`: how the insured person filed for treatment outside the home region.
public enum FilingType: String, Sendable, CaseIterable {
    case retiredResettled = "retired-resettled"
    case longTermResident = "long-term-resident"
    case stationedWorker = "stationed-worker"
    case referral
    case temporary
    case emergency
    case none
}

/// `visit.type`: the kind of treatment settled.
public enum VisitType: String, Sendable, CaseIterable {
    case inpatient
    case outpatient
    case outpatientChronic = "outpatient-chronic"
    case emergency
    case pharmacy
    case maternity
}

/// `failure.stage`: the step of the direct settlement that failed.
public enum FailureStage: String, Sendable, CaseIterable {
    case cardRead = "card-read"
    case registration
    case preSettlement = "pre-settlement"
    case settlement
    case reversal
}
