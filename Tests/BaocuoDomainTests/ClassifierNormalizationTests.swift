import BaocuoDomain
import Testing

struct ClassifierNormalizationTests {
    @Test(arguments: [
        ("ＡＢＣ１２３", "abc123"),  // full-width letters and digits
        ("备案\u{3000}信息　不存在", "备案信息不存在"),  // ideographic spaces
        ("Filing  Not\tFound\n", "filingnotfound"),  // ASCII whitespace and case
        ("【异地结算】错误：备案（已过期）！", "异地结算错误备案已过期"),
        ("、，。：；！？（）【】《》“”‘’「」…—·", ""),  // CJK punctuation
        ("[HIS-ERR] code=E-01; a/b_c.d", "hiserrcodee01abcd"),  // ASCII punctuation
        ("ｃｏｎｎｅｃｔｉｏｎ　ｒｅｆｕｓｅｄ！", "connectionrefused"),
        ("備案已過期", "备案已过期"),  // traditional → simplified
        ("社保卡⚠️未激活★", "社保卡未激活"),  // symbols and emoji
        ("Ünïcode café", "Ünïcodecafé"),  // only ASCII is case-folded; other letters stay
        ("", ""),
    ])
    func normalizes(_ input: String, _ expected: String) {
        #expect(MessageNormalizer.normalize(input) == expected)
    }

    @Test func normalFormIsStable() {
        let text = "［ＨＩＳ］　患者的異地就醫備案已经过了有效期，请联系参保地经办机构（交易号：000123）"
        let once = MessageNormalizer.normalize(text)
        #expect(MessageNormalizer.normalize(once) == once)
        #expect(once.utf8.count <= text.utf8.count)
    }

    @Test func keywordsMatchWhateverTheFormOfTheMessage() {
        let classifier = ClassifierFixtures.classifier
        let forms = ["connection refused", "ＣＯＮＮＥＣＴＩＯＮ　ＲＥＦＵＳＥＤ", "Connection-Refused!", "c o n n e c t i o n refused"]
        for form in forms {
            #expect(classifier.classify(ClassificationInput(failureMessage: form)).category == .systemFault, "\(form)")
        }
    }

    @Test func keywordsInTheCodeCountButNeverSpanCodeAndMessage() {
        let classifier = ClassifierFixtures.rulesOnly
        #expect(classifier.classify(ClassificationInput(failureCode: "TIMEOUT")).category == .systemFault)
        // "time" + "out" would only form "timeout" across the boundary.
        let split = ClassificationInput(failureCode: "XTIME", failureMessage: "out")
        #expect(classifier.classify(split).category == .unclassified)
    }
}
