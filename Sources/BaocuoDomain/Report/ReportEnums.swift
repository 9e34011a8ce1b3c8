/// Closed vocabularies of report v1 (CONTRACT §2). Raw values are the wire spellings.

/// `insured.insuranceType`: employee or resident basic medical insurance.
public enum InsuranceType: String, Sendable, CaseIterable {
    /// Employee basic medical insurance (职工医保).
    case employee
    /// Resident basic medical insurance (居民医保).
    case resident
}

/// `insured.filingType`: how the insured person filed for treatment outside the home region.
public enum FilingType: String, Sendable, CaseIterable {
    /// `retired-resettled`: a retiree living in another region (异地安置退休人员).
    case retiredResettled = "retired-resettled"
    /// `long-term-resident`: a long-term resident of another region (异地长期居住人员).
    case longTermResident = "long-term-resident"
    /// `stationed-worker`: an employee posted to another region (常驻异地工作人员).
    case stationedWorker = "stationed-worker"
    /// Referred by a hospital to another region (转诊转院).
    case referral
    /// Temporarily outside the home region (临时外出就医).
    case temporary
    /// Emergency treatment (急诊抢救).
    case emergency
    /// No filing.
    case none
}

/// `visit.type`: the kind of treatment settled.
public enum VisitType: String, Sendable, CaseIterable {
    /// Inpatient stay (住院).
    case inpatient
    /// General outpatient visit (普通门诊).
    case outpatient
    /// `outpatient-chronic`: outpatient care of a chronic or special disease (门诊慢特病).
    case outpatientChronic = "outpatient-chronic"
    /// Emergency visit.
    case emergency
    /// Purchase at a designated pharmacy.
    case pharmacy
    /// Maternity care (生育).
    case maternity
}

/// `failure.stage`: the step of the direct settlement that failed.
public enum FailureStage: String, Sendable, CaseIterable {
    /// `card-read`: reading the social-security card or e-voucher.
    case cardRead = "card-read"
    /// Registration (挂号 / 入院登记).
    case registration
    /// `pre-settlement`: the trial settlement before payment.
    case preSettlement = "pre-settlement"
    /// The settlement itself.
    case settlement
    /// Reversing (cancelling) a settlement.
    case reversal
}
