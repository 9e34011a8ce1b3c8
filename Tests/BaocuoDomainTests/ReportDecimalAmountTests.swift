import Testing

@testable import BaocuoDomain

@Suite struct ReportDecimalAmountTests {
    @Test(arguments: ["0", "0.5", "0.50", "12345.67", "007.50", "100", String(repeating: "9", count: 20) + ".99"])
    func validAmounts(_ text: String) {
        #expect(DecimalAmount(text)?.text == text)
    }

    @Test(arguments: [
        "", ".", ".5", "5.", "1.234", "-1", "+1", "1e3", "1E3", " 1", "1 ", "1,000.00", "1.2.3", "NaN",
        "１２", String(repeating: "9", count: 21), "0x10",
    ])
    func invalidAmounts(_ text: String) {
        #expect(DecimalAmount(text) == nil)
    }
}
