/// Closed vocabularies of report v1 (CONTRACT §2). Raw values are the wire spellings.

public enum InsuranceType: String, Sendable, CaseIterable {
    case employee
    case resident
}

public enum FilingType: String, Sendable, CaseIterable {
    case retiredResettled = "retired-resettled"
    case longTermResident = "long-term-resident"
    case stationedWorker = "stationed-worker"
    case referral
    case temporary
    case emergency
    case none
}

public enum VisitType: String, Sendable, CaseIterable {
    case inpatient
    case outpatient
    case outpatientChronic = "outpatient-chronic"
    case emergency
    case pharmacy
    case maternity
}

public enum FailureStage: String, Sendable, CaseIterable {
    case cardRead = "card-read"
    case registration
    case preSettlement = "pre-settlement"
    case settlement
    case reversal
}
