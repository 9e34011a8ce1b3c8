import Foundation
import Testing

@testable import BaocuoDomain

/// The shared sample lines (copied into Fixtures/) and helpers the decoding tests share.
enum Samples {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The 46 report lines as raw bytes (line 14 is deliberately not UTF-8).
    static let reportLines: [[UInt8]] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("reports.jsonl"))
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }.map { Array($0) }
    }()

    /// Expected outcome per line: nil when routed, else the reject code.
    static let expectedCodes: [String?] = {
        let text = try! String(contentsOf: fixtures.appendingPathComponent("expected.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return (object["error"] as? [String: Any])?["code"] as? String
        }
    }()

    static let expectedReportIds: [String?] = {
        let text = try! String(contentsOf: fixtures.appendingPathComponent("expected.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["reportId"] as? String
        }
    }()

    /// A valid report; `replacing` swaps substrings to derive broken variants.
    static let validReport = """
        {"schema": "baocuo.report/v1", "reportId": "H410105001-20261123-000123", \
        "reportedAt": "2026-11-23T09:15:02+08:00", \
        "hospital": {"code": "H41010500123", "name": "郑州大学第一附属医院", "regionCode": "410105"}, \
        "insured": {"regionCode": "210781", "personId": "210781199001011235", "name": "张*", "insuranceType": "employee"}, \
        "filing": {"type": "long-term-resident", "validUntil": "2027-03-01"}, \
        "visit": {"type": "inpatient", "admittedAt": "2026-11-20T10:00:00+08:00"}, \
        "failure": {"stage": "settlement", "code": "BZ-3012", "message": "未查询到该参保人有效的异地就医备案信息", \
        "occurredAt": "2026-11-23T09:10:44+08:00"}, \
        "amounts": {"total": "12345.67", "fundPayable": "8641.97"}, \
        "attachments": [{"kind": "screenshot", "uri": "s3://hospital-uploads/123.png"}]}
        """

    static func report(replacing target: String, with replacement: String) -> String {
        precondition(validReport.contains(target), "fixture does not contain \(target)")
        return validReport.replacingOccurrences(of: target, with: replacement)
    }

    static func decode(_ text: String, limits: DecodeLimits = DecodeLimits()) -> Result<Report, Rejection> {
        ReportDecoder(limits: limits).decode(Array(text.utf8))
    }

    static func rejection(_ text: String, limits: DecodeLimits = DecodeLimits()) -> Rejection? {
        if case .failure(let rejection) = decode(text, limits: limits) { return rejection }
        return nil
    }
}

@Suite struct ReportSamplesTests {
    @Test func fixturesHaveOneExpectationPerLine() {
        #expect(Samples.reportLines.count == 46)
        #expect(Samples.expectedCodes.count == 46)
    }

    /// Every sample decodes to what expected.jsonl says, except UNKNOWN_REGION, which region
    /// resolution decides later: that line must decode.
    @Test(arguments: 0..<46)
    func sampleLineMatchesExpectedOutcome(index: Int) {
        let result = ReportDecoder().decode(Samples.reportLines[index])
        switch (Samples.expectedCodes[index], result) {
        case (nil, .success(let report)), ("UNKNOWN_REGION", .success(let report)):
            #expect(Samples.expectedReportIds[index] == nil || report.reportId == Samples.expectedReportIds[index])
        case (let expected?, .failure(let rejection)):
            #expect(rejection.code.rawValue == expected, "line \(index + 1): \(rejection.detail)")
        case (let expected, .success):
            Issue.record("line \(index + 1) decoded, expected \(expected ?? "success")")
        case (nil, .failure(let rejection)):
            Issue.record("line \(index + 1) rejected: \(rejection)")
        }
    }

    @Test func sampleRejectionsHavePreciseDetails() {
        func detail(_ line: Int) -> String? {
            if case .failure(let rejection) = ReportDecoder().decode(Samples.reportLines[line - 1]) {
                return rejection.detail
            }
            return nil
        }
        #expect(detail(9)?.hasPrefix("trailing comma before '}' at offset") == true)
        #expect(detail(19) == #"schema: "baocuo.report/v3" is not supported; expected "baocuo.report/v1""#)
        #expect(detail(24) == "insured.regionCode: missing")
        #expect(detail(29) == "failure: missing")
        #expect(detail(39) == "amounts.total: must be a non-negative decimal with at most 2 fraction digits")
        #expect(detail(44)?.hasPrefix(#"visit.type: unknown value "ward"; expected one of inpatient, outpatient"#) == true)
    }
}
