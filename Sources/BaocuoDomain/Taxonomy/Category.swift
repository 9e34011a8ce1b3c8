/// Who must act on a category (CONTRACT §4).
public enum Responsibility: String, Sendable, CaseIterable {
    case insuredAgency = "insured-agency"
    case treatmentAgency = "treatment-agency"
    case ops
}

/// The fixed failure taxonomy (CONTRACT §4). Raw values are the wire ids.
public enum Category: String, Sendable, CaseIterable, Comparable {
    case filingMissing = "FILING_MISSING"
    case filingExpired = "FILING_EXPIRED"
    case filingMismatch = "FILING_MISMATCH"
    case insuredStatus = "INSURED_STATUS"
    case benefitNotEligible = "BENEFIT_NOT_ELIGIBLE"
    case catalogMapping = "CATALOG_MAPPING"
    case institutionNotEnabled = "INSTITUTION_NOT_ENABLED"
    case credential = "CREDENTIAL"
    case settlementConflict = "SETTLEMENT_CONFLICT"
    case systemFault = "SYSTEM_FAULT"
    case emergencyUnfiled = "EMERGENCY_UNFILED"
    case unclassified = "UNCLASSIFIED"

    /// The Chinese display name of the category (CONTRACT §4), e.g. `待人工分类`.
    public var label: String {
        switch self {
        case .filingMissing: "未备案或查无有效备案"
        case .filingExpired: "备案已过期或未生效"
        case .filingMismatch: "备案就医地或备案类型与实际就医不符"
        case .insuredStatus: "参保状态或人员信息异常"
        case .benefitNotEligible: "待遇不属于直接结算范围"
        case .catalogMapping: "目录对照或项目编码问题"
        case .institutionNotEnabled: "定点机构未开通异地联网结算"
        case .credential: "社保卡或医保电子凭证问题"
        case .settlementConflict: "结算状态或费用明细冲突"
        case .systemFault: "网络或系统故障"
        case .emergencyUnfiled: "急诊抢救或外伤未备案"
        case .unclassified: "待人工分类"
        }
    }

    /// Who must act on reports of this category: the insured region's agency, the treatment region's, or ops.
    public var responsible: Responsibility {
        switch self {
        case .catalogMapping, .institutionNotEnabled, .settlementConflict, .emergencyUnfiled: .treatmentAgency
        case .systemFault: .ops
        default: .insuredAgency
        }
    }

    /// The treatment region's agency gets a `cc` copy (when it differs from the owner).
    public var copiesTreatmentRegion: Bool { responsible == .treatmentAgency }

    /// A masked copy goes to `yb.ops.incidents`.
    public var copiesOps: Bool { self == .systemFault }

    /// Orders by raw value (the wire id), so listings are stable.
    public static func < (lhs: Category, rhs: Category) -> Bool { lhs.rawValue < rhs.rawValue }
}
