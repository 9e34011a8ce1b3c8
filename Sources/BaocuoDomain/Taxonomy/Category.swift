/// Who must act on a category (CONTRACT §4).
public enum Responsibility: String, Sendable, CaseIterable {
    /// The insured region's agency (the owner) acts alone.
    case insuredAgency = "insured-agency"
    /// The treatment region's agency must act: it gets a `cc` copy.
    case treatmentAgency = "treatment-agency"
    /// Operations (network, platform faults): a masked copy goes to `yb.ops.incidents`.
    case ops
}

/// The fixed failure taxonomy (CONTRACT §4). Raw values are the wire ids.
public enum Category: String, Sendable, CaseIterable, Comparable {
    /// 未备案或查无有效备案: no filing found for treatment outside the home region.
    case filingMissing = "FILING_MISSING"
    /// 备案已过期或未生效: the filing is outside its validity window.
    case filingExpired = "FILING_EXPIRED"
    /// 备案就医地或备案类型与实际就医不符: filed for another place, type or scope.
    case filingMismatch = "FILING_MISMATCH"
    /// 参保状态或人员信息异常: arrears, suspension, termination, person not found, identity mismatch.
    case insuredStatus = "INSURED_STATUS"
    /// 待遇不属于直接结算范围: the benefit or item is not eligible for direct settlement.
    case benefitNotEligible = "BENEFIT_NOT_ELIGIBLE"
    /// 目录对照或项目编码问题: a drug, service or material not mapped to the catalogue.
    case catalogMapping = "CATALOG_MAPPING"
    /// 定点机构未开通异地联网结算: the institution is not enabled for cross-region settlement.
    case institutionNotEnabled = "INSTITUTION_NOT_ENABLED"
    /// 社保卡或医保电子凭证问题: the social-security card or e-voucher is unusable.
    case credential = "CREDENTIAL"
    /// 结算状态或费用明细冲突: duplicate or unknown settlement, failed reversal, detail or amount mismatch.
    case settlementConflict = "SETTLEMENT_CONFLICT"
    /// 网络或系统故障: timeouts, connection failures, interface errors, maintenance.
    case systemFault = "SYSTEM_FAULT"
    /// 急诊抢救或外伤未备案: emergency or injury treatment without a filing.
    case emergencyUnfiled = "EMERGENCY_UNFILED"
    /// 待人工分类: no rule is confident; a person decides.
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
