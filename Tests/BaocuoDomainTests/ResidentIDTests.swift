import Testing

@testable import BaocuoDomain

@Suite struct ResidentIDTests {
    @Test(
        arguments: [
            "11010519491231002X",  // the standard's worked example
            "210781199001011235", "410302196809084724", "41030219870714350X", "23010319891126209X",
            "440102195010219501", "110102195702281545",
        ].map(MaskedID.init))
    func validIds(_ id: MaskedID) {
        let valid = ResidentID.isValid(id.value)
        #expect(valid, "\(id.testDescription)")
    }

    @Test func everyWrongCheckCharacterIsRejected() {
        let body = "11010519491231002"
        for check in "0123456789" {
            #expect(!ResidentID.isValid(body + String(check)))
        }
        #expect(ResidentID.isValid(body + "X"))
        #expect(ResidentID.isValid(body + "x"))
    }

    @Test func problemsNameTheRule() {
        func problem(_ id: String) -> ResidentID.Problem? {
            var id = id
            return id.withUTF8 { ResidentID.problem(UnsafeRawBufferPointer($0)) }
        }
        #expect(problem("11010519491231002X") == nil)
        #expect(problem("110105194912310021") == .checkDigitMismatch)
        #expect(problem("1101051949123100") == .wrongLength)
        #expect(problem("11010519491231002X0") == .wrongLength)
        #expect(problem("") == .wrongLength)
        #expect(problem("1101051949123100AX") == .nonDigit)
        #expect(problem("11010519491231002Z") == .badCheckCharacter)
        #expect(problem("１10105194912310021") == .wrongLength)  // a full-width digit is 3 bytes
        #expect(ResidentID.Problem.checkDigitMismatch.description == "GB 11643 check digit does not match")
    }

    @Test func maskingKeepsRegionAndLastFour() {
        #expect(ResidentID.masked("210781199001011235") == "210781********1235")
        #expect(ResidentID.masked("11010519491231002X") == "110105********002X")
        #expect(ResidentID.masked("12345678901") == "123456*8901")
        #expect(ResidentID.masked("1234567890") == "**********")
        #expect(ResidentID.masked("") == "")
    }
}

/// A resident ID as a test argument: the test output names it masked, as every log must
/// (scripts/scan-pii.sh fails the run on an unmasked sample ID).
struct MaskedID: CustomTestStringConvertible, Sendable {
    let value: String
    var testDescription: String { ResidentID.masked(value) }
}
