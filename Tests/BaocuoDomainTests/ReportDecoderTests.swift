import Testing

@testable import BaocuoDomain

@Suite struct ReportDecoderTests {
    /// Reports hold their text fields packed in one buffer; equality and the accessors must
    /// not depend on how a report was built (decoded or initialised) or on field order.
    @Test func decodedReportEqualsTheSameReportBuiltByHand() throws {
        let decoded = try ReportDecoder().decode(Array(Samples.validReport.utf8)).get()
        let built = Report(
            reportId: decoded.reportId, reportedAt: decoded.reportedAt,
            hospitalCode: decoded.hospitalCode, hospitalName: decoded.hospitalName,
            hospitalRegionCode: decoded.hospitalRegionCode, insuredRegionCode: decoded.insuredRegionCode,
            personId: decoded.personId, personIdValueRange: decoded.personIdValueRange,
            insuranceType: decoded.insuranceType, filingType: decoded.filingType,
            filingValidUntil: decoded.filingValidUntil, visitType: decoded.visitType,
            visitAdmittedAt: decoded.visitAdmittedAt, failureStage: decoded.failureStage,
            failureCode: decoded.failureCode, failureMessage: decoded.failureMessage,
            failureOccurredAt: decoded.failureOccurredAt, amounts: decoded.amounts)
        #expect(built == decoded)
        // An absent optional text differs from an empty one, and any differing field counts.
        let minimal = Report(
            reportId: "R1", reportedAt: decoded.reportedAt, hospitalCode: "H1",
            hospitalRegionCode: "410105", insuredRegionCode: "210781", failureCode: "E1")
        let emptyName = Report(
            reportId: "R1", reportedAt: decoded.reportedAt, hospitalCode: "H1", hospitalName: "",
            hospitalRegionCode: "410105", insuredRegionCode: "210781", failureCode: "E1")
        let otherCode = Report(
            reportId: "R1", reportedAt: decoded.reportedAt, hospitalCode: "H1",
            hospitalRegionCode: "410105", insuredRegionCode: "210781", failureCode: "E2")
        #expect(minimal.hospitalName == nil && emptyName.hospitalName == "")
        #expect(minimal != emptyName)
        #expect(minimal != otherCode)
        #expect(minimal.failureCode == "E1" && minimal.failureMessage == nil && minimal.personId == nil)
    }

    @Test func decodesTheContractExample() throws {
        let bytes = Array(Samples.validReport.utf8)
        let report = try ReportDecoder().decode(bytes).get()
        #expect(report.reportId == "H410105001-20261123-000123")
        #expect(report.reportedAt == Timestamp.parseRFC3339("2026-11-23T09:15:02+08:00"))
        #expect(report.hospitalCode == "H41010500123")
        #expect(report.hospitalName == "郑州大学第一附属医院")
        #expect(report.hospitalRegionCode == "410105")
        #expect(report.insuredRegionCode == "210781")
        #expect(report.personId == "210781199001011235")
        #expect(report.insuranceType == .employee)
        #expect(report.filingType == .longTermResident)
        #expect(report.filingValidUntil == CivilDate(year: 2027, month: 3, day: 1))
        #expect(report.visitType == .inpatient)
        #expect(report.visitAdmittedAt == Timestamp.parseRFC3339("2026-11-20T10:00:00+08:00"))
        #expect(report.failureStage == .settlement)
        #expect(report.failureCode == "BZ-3012")
        #expect(report.failureMessage == "未查询到该参保人有效的异地就医备案信息")
        #expect(report.failureOccurredAt == Timestamp.parseRFC3339("2026-11-23T09:10:44+08:00"))
        #expect(report.amounts.total?.text == "12345.67")
        #expect(report.amounts.fundPayable?.text == "8641.97")
        // The person ID range covers the quoted token, ready to be spliced.
        let range = try #require(report.personIdValueRange)
        #expect(String(decoding: bytes[range], as: UTF8.self) == #""210781199001011235""#)
    }

    @Test func personIdRangeAllowsSplicingAMaskedCopy() throws {
        let bytes = Array(Samples.validReport.utf8)
        let report = try ReportDecoder().decode(bytes).get()
        let range = try #require(report.personIdValueRange)
        var masked: [UInt8] = []
        JSONWriter.appendString(ResidentID.masked(try #require(report.personId)), to: &masked)
        var spliced = bytes
        spliced.replaceSubrange(range, with: masked)
        let text = String(decoding: spliced, as: UTF8.self)
        #expect(text.contains(#""personId": "210781********1235""#))
        #expect(!text.contains("210781199001011235"))
    }

    @Test func minimalReportHasOnlyRequiredFields() throws {
        let text =
            #"{"schema":"baocuo.report/v1","reportId":"r1","reportedAt":"2026-01-01T00:00:00Z","hospital":{"code":"H","regionCode":"110108"},"insured":{"regionCode":"110101"},"failure":{"message":"超时"}}"#
        let report = try Samples.decode(text).get()
        #expect(report.personId == nil && report.personIdValueRange == nil)
        #expect(report.failureCode == nil && report.failureMessage == "超时")
        #expect(report.amounts == Report.Amounts())
        #expect(report.visitType == nil && report.filingType == nil && report.hospitalName == nil)
    }

    @Test func unknownFieldsAnywhereAreKept() throws {
        let text = Samples.validReport
            .replacingOccurrences(
                of: #""schema": "baocuo.report/v1","#,
                with: #""schema": "baocuo.report/v1", "future": {"deep": [1, {"x": null}]}, "extra": 1.5e3,"#
            )
            .replacingOccurrences(of: #""name": "张*","#, with: #""name": "张*", "phone": "138", "flags": [true],"#)
            .replacingOccurrences(of: #""kind": "screenshot""#, with: #""kind": 42, "nested": {"any": "thing"}"#)
        let bytes = Array(text.utf8)
        let report = try ReportDecoder().decode(bytes).get()
        #expect(report.reportId == "H410105001-20261123-000123")
        // Nothing was rewritten: the record bytes still hold the unknown fields verbatim.
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""future": {"deep": [1, {"x": null}]}"#))
    }

    @Test func nullOptionalFieldsCountAsAbsent() throws {
        var text = Samples.report(replacing: #""personId": "210781199001011235""#, with: #""personId": null"#)
        text = text.replacingOccurrences(
            of: #""filing": {"type": "long-term-resident", "validUntil": "2027-03-01"}"#, with: #""filing": null"#)
        text = text.replacingOccurrences(of: #""code": "BZ-3012""#, with: #""code": null"#)
        text = text.replacingOccurrences(of: #""total": "12345.67""#, with: #""total": null"#)
        let report = try Samples.decode(text).get()
        #expect(report.personId == nil && report.personIdValueRange == nil)
        #expect(report.filingType == nil && report.failureCode == nil && report.amounts.total == nil)
    }

    @Test func escapedNamesAndValuesAreUnderstood() throws {
        let text = Samples.report(replacing: #""reportId": "H410105001-20261123-000123""#, with: #""report\u0049d": "H41\u0030105001""#)
            .replacingOccurrences(of: #""type": "inpatient""#, with: #""type": "in\u0070atient""#)
        let report = try Samples.decode(text).get()
        #expect(report.reportId == "H410105001")
        #expect(report.visitType == .inpatient)
    }

    @Test func lowercaseCheckCharacterIsAccepted() throws {
        let text = Samples.report(replacing: "210781199001011235", with: "41030219870714350x")
        #expect(try Samples.decode(text).get().personId == "41030219870714350x")
    }

    @Test func emptyFailureCodeIsNormalizedAway() throws {
        let text = Samples.report(replacing: #""code": "BZ-3012""#, with: #""code": """#)
        let report = try Samples.decode(text).get()
        #expect(report.failureCode == nil)
        #expect(report.failureMessage != nil)
    }

    @Test func failureMessageLimitCountsUnicodeScalars() throws {
        let atLimit = Samples.report(
            replacing: "未查询到该参保人有效的异地就医备案信息", with: String(repeating: "备", count: 2000))
        #expect(try Samples.decode(atLimit).get().failureMessage?.unicodeScalars.count == 2000)
        let over = Samples.report(replacing: "未查询到该参保人有效的异地就医备案信息", with: String(repeating: "备", count: 2001))
        #expect(Samples.rejection(over) == Rejection(.invalidField, "failure.message: longer than 2000 characters"))
        let limits = DecodeLimits(maxMessageCharacters: 5)
        let short = Samples.report(replacing: "未查询到该参保人有效的异地就医备案信息", with: "超时了吗？")
        #expect(Samples.rejection(short, limits: limits) == nil)
        #expect(
            Samples.rejection(short + "", limits: DecodeLimits(maxMessageCharacters: 4))
                == Rejection(.invalidField, "failure.message: longer than 4 characters"))
    }

    @Test func descriptionsNeverShowThePersonId() throws {
        let report = try Samples.decode(Samples.validReport).get()
        var dumped = ""
        dump(report, to: &dumped)
        for text in [report.description, report.debugDescription, String(describing: report), String(reflecting: report), dumped] {
            #expect(!text.contains("199001011235"))
        }
        #expect(dumped.contains("210781********1235"))
    }

    @Test func fieldTablesBuildWithoutNameCollisions() {
        // Building a table checks that no two names of one object share a lookup slot.
        #expect(
            ReportField.table.objects.map { ReportField(rawValue: $0)! }
                == [.hospital, .insured, .filing, .visit, .failure, .amounts])
        #expect(ResolutionField.table.objects.isEmpty)
        #expect(ReportField.table.paths.map(\.description).contains("insured.personId"))
    }

    @Test func repeatedDecodingWithOneParserMatchesFreshDecoding() {
        var parser = JSONParser()
        let decoder = ReportDecoder()
        for line in Samples.reportLines + Samples.reportLines {
            let reused = line.withUnsafeBytes { decoder.decode($0, using: &parser) }
            #expect(reused == decoder.decode(line))
        }
    }
}

/// One test per reject code and rule, each with its exact detail.
@Suite struct ReportRejectionTests {
    private static func reject(_ target: String, _ replacement: String) -> Rejection? {
        Samples.rejection(Samples.report(replacing: target, with: replacement))
    }

    @Test func tooLargeIsDecidedBeforeParsing() {
        // 1 MiB + 1 byte, and not even JSON: size comes first.
        let bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 1_048_577)
        #expect(ReportDecoder().decode(bytes) == .failure(Rejection(.tooLarge, "record is 1048577 bytes; the limit is 1048576")))
        // Exactly 1 MiB is not too large: a valid report padded with whitespace decodes.
        var padded = Array(Samples.validReport.utf8)
        padded += [UInt8](repeating: UInt8(ascii: " "), count: 1_048_576 - padded.count)
        #expect(padded.count == 1_048_576)
        #expect((try? ReportDecoder().decode(padded).get()) != nil)
        let small = ReportDecoder(limits: DecodeLimits(maxRecordBytes: 100))
        #expect(
            small.decode(Array(Samples.validReport.utf8))
                == .failure(
                    Rejection(.tooLarge, "record is \(Samples.validReport.utf8.count) bytes; the limit is 100")))
    }

    @Test func invalidUTF8() {
        var bytes = Array(Samples.validReport.utf8)
        let offset = bytes.firstIndex(of: 0xE9)!  // inside the hospital name
        bytes[offset] = 0xFF
        #expect(ReportDecoder().decode(bytes) == .failure(Rejection(.invalidUTF8, "invalid UTF-8 at offset \(offset)")))
    }

    @Test func invalidJSON() {
        #expect(Samples.rejection(#"{"schema": "baocuo.report/v1",}"#)?.code == .invalidJSON)
        #expect(Samples.rejection("[]") == Rejection(.invalidJSON, "top level must be an object"))
        #expect(Samples.rejection(#""baocuo.report/v1""#) == Rejection(.invalidJSON, "top level must be an object"))
        #expect(
            Self.reject(#""name": "张*","#, #""name": "张*", "name": "李*","#)
                == Rejection(.invalidJSON, "duplicate key 'name' at insured"))
        let nested = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(
            Self.reject(#""attachments": ["#, #""attachments": [\#(nested), "#)
                == Rejection(.invalidJSON, "nesting deeper than 32 at offset 757"))
        let fits = String(repeating: "[", count: 30) + String(repeating: "]", count: 30)
        #expect(Self.reject(#""attachments": ["#, #""attachments": [\#(fits), "#) == nil)
    }

    @Test func unsupportedSchema() {
        #expect(
            Self.reject(#""schema": "baocuo.report/v1""#, #""schema": "baocuo.report/v2""#)
                == Rejection(.unsupportedSchema, #"schema: "baocuo.report/v2" is not supported; expected "baocuo.report/v1""#))
        #expect(
            Self.reject(#""schema": "baocuo.report/v1""#, #""schema": 1"#)
                == Rejection(.unsupportedSchema, #"schema: a non-string value is not supported; expected "baocuo.report/v1""#))
        #expect(Self.reject(#""schema": "baocuo.report/v1""#, #""schema": null"#)?.code == .unsupportedSchema)
        let long = String(repeating: "v", count: 100)
        #expect(
            Self.reject(#""schema": "baocuo.report/v1""#, #""schema": "\#(long)""#)?.detail
                == #"schema: "\#(String(repeating: "v", count: 40))…" is not supported; expected "baocuo.report/v1""#)
    }

    @Test(arguments: [
        (#""schema": "baocuo.report/v1", "#, "", "schema: missing"),
        (#""reportId": "H410105001-20261123-000123", "#, "", "reportId: missing"),
        (#""reportedAt": "2026-11-23T09:15:02+08:00", "#, "", "reportedAt: missing"),
        (#""code": "H41010500123", "#, "", "hospital.code: missing"),
        (#", "regionCode": "410105""#, "", "hospital.regionCode: missing"),
        (#""regionCode": "210781", "#, "", "insured.regionCode: missing"),
        (#""code": "BZ-3012", "#, #""code": null, "#, "failure: needs a non-empty code or message"),
    ])
    func missingField(_ target: String, _ replacement: String, _ detail: String) {
        var text = Samples.report(replacing: target, with: replacement)
        if detail.hasPrefix("failure:") {
            text = text.replacingOccurrences(of: #""message": "未查询到该参保人有效的异地就医备案信息", "#, with: "")
        }
        #expect(Samples.rejection(text) == Rejection(.missingField, detail))
    }

    @Test func missingObjects() {
        let withoutHospital = Samples.validReport.replacingOccurrences(
            of: #""hospital": {"code": "H41010500123", "name": "郑州大学第一附属医院", "regionCode": "410105"}, "#, with: "")
        #expect(Samples.rejection(withoutHospital) == Rejection(.missingField, "hospital: missing"))
        let failureStart = Samples.validReport.range(of: #", "failure": {"#)!.lowerBound
        let failureEnd = Samples.validReport.range(of: #", "amounts""#)!.lowerBound
        var withoutFailure = Samples.validReport
        withoutFailure.removeSubrange(failureStart..<failureEnd)
        #expect(Samples.rejection(withoutFailure) == Rejection(.missingField, "failure: missing"))
        #expect(Self.reject(#""failure": {"#, #""failure": {}, "old": {"#)?.detail == "failure: needs a non-empty code or message")
    }

    @Test func missingFieldsAreReportedBeforeInvalidOnes() {
        let text = Samples.report(replacing: #""reportId": "H410105001-20261123-000123""#, with: #""reportId": "bad id!""#)
            .replacingOccurrences(of: #""regionCode": "210781", "#, with: "")
        #expect(Samples.rejection(text) == Rejection(.missingField, "insured.regionCode: missing"))
    }

    @Test(arguments: [
        (
            #""reportId": "H410105001-20261123-000123""#, #""reportId": "H4101 05""#,
            "reportId: must be 1–64 characters of A-Z a-z 0-9 . _ : -"
        ),
        (
            #""reportId": "H410105001-20261123-000123""#, #""reportId": """#,
            "reportId: must be 1–64 characters of A-Z a-z 0-9 . _ : -"
        ),
        (
            #""reportId": "H410105001-20261123-000123""#, #""reportId": "\#(String(repeating: "a", count: 65))""#,
            "reportId: must be 1–64 characters of A-Z a-z 0-9 . _ : -"
        ),
        (#""reportId": "H410105001-20261123-000123""#, #""reportId": 123"#, "reportId: must be a string"),
        (#""reportId": "H410105001-20261123-000123""#, #""reportId": null"#, "reportId: must be a string"),
        (
            #""reportedAt": "2026-11-23T09:15:02+08:00""#, #""reportedAt": "2026-11-23T09:15:02""#,
            "reportedAt: must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T09:15:02+08:00"
        ),
        (
            #""reportedAt": "2026-11-23T09:15:02+08:00""#, #""reportedAt": "2026-02-30T09:15:02+08:00""#,
            "reportedAt: must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T09:15:02+08:00"
        ),
        (#""hospital": {"#, #""hospital": [], "old": {"#, "hospital: must be an object"),
        (#""code": "H41010500123""#, #""code": """#, "hospital.code: must not be empty"),
        (#""regionCode": "410105""#, #""regionCode": "41010""#, "hospital.regionCode: must be 6 digits"),
        (#""regionCode": "410105""#, #""regionCode": 410105"#, "hospital.regionCode: must be a string"),
        (#""regionCode": "210781""#, #""regionCode": "21078１""#, "insured.regionCode: must be 6 digits"),
        (#""insured": {"#, #""insured": null, "old": {"#, "insured: must be an object"),
        (
            #""insuranceType": "employee""#, #""insuranceType": "EMPLOYEE""#,
            #"insured.insuranceType: unknown value "EMPLOYEE"; expected one of employee, resident"#
        ),
        (#""filing": {"#, #""filing": "none", "old": {"#, "filing: must be an object"),
        (
            #""type": "long-term-resident""#, #""type": "forever""#,
            #"filing.type: unknown value "forever"; expected one of retired-resettled, long-term-resident, stationed-worker, referral, temporary, emergency, none"#
        ),
        (#""validUntil": "2027-03-01""#, #""validUntil": "2027-3-1""#, "filing.validUntil: must be a date YYYY-MM-DD"),
        (#""validUntil": "2027-03-01""#, #""validUntil": "2027-02-29""#, "filing.validUntil: must be a date YYYY-MM-DD"),
        (
            #""type": "inpatient""#, #""type": "xyz""#,
            #"visit.type: unknown value "xyz"; expected one of inpatient, outpatient, outpatient-chronic, emergency, pharmacy, maternity"#
        ),
        (
            #""admittedAt": "2026-11-20T10:00:00+08:00""#, #""admittedAt": "yesterday""#,
            "visit.admittedAt: must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T09:15:02+08:00"
        ),
        (
            #""stage": "settlement""#, #""stage": "Settlement""#,
            #"failure.stage: unknown value "Settlement"; expected one of card-read, registration, pre-settlement, settlement, reversal"#
        ),
        (#""code": "BZ-3012""#, #""code": 3012"#, "failure.code: must be a string"),
        (
            #""occurredAt": "2026-11-23T09:10:44+08:00""#, #""occurredAt": "2026-11-23 25:10:44+08:00""#,
            "failure.occurredAt: must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T09:15:02+08:00"
        ),
        (#""total": "12345.67""#, #""total": 12345.67"#, "amounts.total: must be a decimal string"),
        (#""total": "12345.67""#, #""total": "-1.00""#, "amounts.total: must be a non-negative decimal with at most 2 fraction digits"),
        (
            #""fundPayable": "8641.97""#, #""fundPayable": "8641.975""#,
            "amounts.fundPayable: must be a non-negative decimal with at most 2 fraction digits"
        ),
        (#""fundPayable": "8641.97""#, #""fundPayable": true"#, "amounts.fundPayable: must be a string"),
        (#""amounts": {"#, #""amounts": "12.00", "old": {"#, "amounts: must be an object"),
        (#""attachments": ["#, #""attachments": {"a": 1}, "old": ["#, "attachments: must be an array"),
    ])
    func invalidField(_ target: String, _ replacement: String, _ detail: String) {
        #expect(Self.reject(target, replacement) == Rejection(.invalidField, detail))
    }

    /// Person-ID cases are named rather than passed as arguments, so the test log never shows an ID.
    static let personIdCases: [String: (replacement: String, detail: String)] = [
        "wrong check digit": (#""personId": "210781199001011236""#, "insured.personId: GB 11643 check digit does not match"),
        "17 characters": (#""personId": "21078119900101123""#, "insured.personId: must be 18 characters"),
        "letter inside": (#""personId": "2107811990010112X5""#, "insured.personId: the first 17 characters must be digits"),
        "bad check character": (#""personId": "21078119900101123Y""#, "insured.personId: the last character must be a digit or X"),
        "a number": (#""personId": 210781199001011235"#, "insured.personId: must be a string"),
    ]

    @Test(arguments: personIdCases.keys.sorted())
    func invalidPersonId(_ name: String) throws {
        let testCase = try #require(Self.personIdCases[name])
        #expect(Self.reject(#""personId": "210781199001011235""#, testCase.replacement) == Rejection(.invalidField, testCase.detail))
    }

    @Test func failureNeedsANonEmptyCodeOrMessage() {
        let text = Samples.report(replacing: #""code": "BZ-3012""#, with: #""code": """#)
            .replacingOccurrences(of: "未查询到该参保人有效的异地就医备案信息", with: "")
        #expect(Samples.rejection(text) == Rejection(.invalidField, "failure: needs a non-empty code or message"))
    }

    @Test func echoedValuesAreTruncated() {
        let long = String(repeating: "病", count: 60)
        #expect(
            Self.reject(#""type": "inpatient""#, #""type": "\#(long)""#)?.detail.hasPrefix(
                #"visit.type: unknown value "\#(String(repeating: "病", count: 40))…"; expected"#) == true)
    }

    @Test func personIdNeverAppearsInDetails() {
        for bad in ["210781199001011236", "21078119900101123", "2107811990010112X5", "21078119900101123Y", "210781199001011235999"] {
            let detail = Self.reject(#""personId": "210781199001011235""#, #""personId": "\#(bad)""#)?.detail ?? ""
            #expect(detail.hasPrefix("insured.personId: "))
            #expect(!detail.contains("2107811990"), "detail echoes the person ID")
        }
    }

    @Test func decoderDoesNotProduceOtherLayersCodes() {
        #expect(
            RejectCode.allCases.map(\.rawValue) == [
                "INVALID_UTF8", "INVALID_JSON", "TOO_LARGE", "UNSUPPORTED_SCHEMA",
                "MISSING_FIELD", "INVALID_FIELD", "UNKNOWN_REGION", "FORBIDDEN_AGENCY",
            ])
        // Region 000000 resolves to nothing, but that is region resolution's call, not the decoder's.
        #expect(Self.reject(#""regionCode": "210781""#, #""regionCode": "000000""#) == nil)
    }
}
