import Testing

@testable import BaocuoDomain

@Suite struct ResolutionDecoderTests {
    static let valid =
        #"{ "schema": "baocuo.resolution/v1", "reportId": "H410105001-20261123-000123", "agency": "210700", "outcome": "RESETTLED", "note": "已补办备案并重新结算", "resolvedAt": "2026-11-26T15:02:00+08:00" }"#

    static func decode(_ text: String) -> Result<Resolution, Rejection> {
        ResolutionDecoder().decode(Array(text.utf8))
    }

    static func reject(_ target: String, _ replacement: String) -> Rejection? {
        precondition(valid.contains(target))
        if case .failure(let rejection) = decode(valid.replacingOccurrences(of: target, with: replacement)) { return rejection }
        return nil
    }

    @Test func decodesTheContractExample() throws {
        let resolution = try Self.decode(Self.valid).get()
        #expect(
            resolution
                == Resolution(
                    reportId: "H410105001-20261123-000123", agency: "210700", outcome: .resettled,
                    note: "已补办备案并重新结算", resolvedAt: Timestamp.parseRFC3339("2026-11-26T15:02:00+08:00")!))
    }

    @Test func allOutcomesDecode() throws {
        for outcome in ResolutionOutcome.allCases {
            let text = Self.valid.replacingOccurrences(of: "RESETTLED", with: outcome.rawValue)
            #expect(try Self.decode(text).get().outcome == outcome)
        }
    }

    @Test func noteIsOptionalAndUnknownFieldsAreKept() throws {
        let text = Self.valid.replacingOccurrences(of: #""note": "已补办备案并重新结算","#, with: #""note": null, "by": {"name": "x"},"#)
        #expect(try Self.decode(text).get().note == nil)
    }

    /// CONTRACT §5 (2026-12-06): an optional corrected category; older resolutions stay valid.
    @Test func anAgencysCorrectedCategoryIsReadAndAnUnknownOneRefused() throws {
        #expect(try Self.decode(Self.valid).get().category == nil)
        let corrected = Self.valid.replacingOccurrences(
            of: #""outcome": "RESETTLED","#,
            with: #""outcome": "RESETTLED", "category": "FILING_MISMATCH","#)
        #expect(try Self.decode(corrected).get().category == .filingMismatch)
        let unknown = Self.reject(#""outcome": "RESETTLED","#, #""outcome": "RESETTLED", "category": "FILING_GONE","#)
        #expect(unknown?.code == .invalidField)
        #expect(unknown?.detail.hasPrefix(#"category: unknown value "FILING_GONE"; expected one of FILING_MISSING, "#) == true)
    }

    @Test func rejections() {
        #expect(
            Self.decode(#"{"schema": "baocuo.report/v1"}"#)
                == .failure(
                    Rejection(.unsupportedSchema, #"schema: "baocuo.report/v1" is not supported; expected "baocuo.resolution/v1""#)))
        #expect(Self.decode("[1]") == .failure(Rejection(.invalidJSON, "top level must be an object")))
        #expect(Self.decode(#"{"reportId": "x"}"#) == .failure(Rejection(.missingField, "schema: missing")))
        #expect(Self.reject(#""agency": "210700", "#, "") == Rejection(.missingField, "agency: missing"))
        #expect(Self.reject(#""agency": "210700""#, #""agency": "2107""#) == Rejection(.invalidField, "agency: must be 6 digits"))
        #expect(Self.reject(#""agency": "210700""#, #""agency": 210700"#) == Rejection(.invalidField, "agency: must be a string"))
        #expect(
            Self.reject(#""outcome": "RESETTLED""#, #""outcome": "DONE""#)
                == Rejection(
                    .invalidField,
                    #"outcome: unknown value "DONE"; expected one of RESETTLED, MANUAL_REIMBURSEMENT, FILING_COMPLETED, FORWARDED, REJECTED, NEED_MORE_INFO"#
                ))
        #expect(
            Self.reject(#""resolvedAt": "2026-11-26T15:02:00+08:00""#, #""resolvedAt": "2026-11-26""#)?.detail
                == "resolvedAt: must be an RFC 3339 timestamp with an offset, e.g. 2026-11-23T09:15:02+08:00")
        #expect(
            Self.reject(#""reportId": "H410105001-20261123-000123""#, #""reportId": "a/b""#)?.detail
                == "reportId: must be 1–64 characters of A-Z a-z 0-9 . _ : -")
        #expect(Self.reject(#""note": "已补办备案并重新结算""#, #""note": ["x"]"#) == Rejection(.invalidField, "note: must be a string"))
        #expect(
            Self.reject(#""agency": "210700""#, #""agency": "210700", "agency": "110100""#)
                == Rejection(.invalidJSON, "duplicate key 'agency' at top level"))
        let big = ResolutionDecoder(limits: DecodeLimits(maxRecordBytes: 10)).decode(Array(Self.valid.utf8))
        #expect(big == .failure(Rejection(.tooLarge, "record is \(Self.valid.utf8.count) bytes; the limit is 10")))
        var broken = Array(Self.valid.utf8)
        broken[broken.firstIndex(of: 0xE5)!] = 0xC0
        let offset = broken.firstIndex(of: 0xC0)!
        #expect(ResolutionDecoder().decode(broken) == .failure(Rejection(.invalidUTF8, "invalid UTF-8 at offset \(offset)")))
    }
}
