/// The text form keywords and failure texts are compared in.
///
/// Vendors write the same words with full-width letters and digits, spaces anywhere,
/// ASCII or CJK punctuation, mixed case, and sometimes traditional characters. The
/// normal form removes those differences: full-width ASCII becomes half-width, ASCII
/// letters are lower-cased, whitespace, punctuation and symbols are dropped, and common
/// traditional characters become simplified. Letters, digits and CJK text are kept.
///
/// The output is never longer than the input (every kept scalar keeps or shrinks its
/// UTF-8 length), so callers can normalise into a buffer of the input's size.
public enum MessageNormalizer {
    /// The normal form of `text`.
    public static func normalize(_ text: String) -> String {
        var text = text
        return text.withUTF8 { input in
            String(unsafeUninitializedCapacity: input.count) { output in
                normalize(input, into: output.baseAddress!)
            }
        }
    }

    /// Writes the normal form of the UTF-8 `input` (which must be valid UTF-8) to `output`,
    /// which must have room for `input.count` bytes. Returns the number of bytes written.
    @inline(__always)
    static func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) -> Int {
        let simplifiedTable = simplifiedTable  // one lazy-global check per text, not per character
        var read = 0
        var written = 0
        let count = input.count
        while read < count {
            let lead = input[read]
            if lead < 0x80 {
                if let kept = keptASCII(lead) {
                    output[written] = kept
                    written += 1
                }
                read += 1
                continue
            }
            // Fast path for the bulk of a message: a CJK ideograph (U+4E00–U+9FFF, lead bytes
            // E4–E9) is kept as is or replaced by its simplified form, both three bytes.
            if lead &- 0xE4 <= 0xE9 - 0xE4 {
                let scalar = UInt32(lead & 0x0F) << 12 | UInt32(input[read + 1] & 0x3F) << 6 | UInt32(input[read + 2] & 0x3F)
                if scalar >= 0x4E00 {
                    if let replacement = simplifiedTable.simplified(scalar) {
                        output[written] = 0xE0 | UInt8(replacement >> 12)
                        output[written + 1] = 0x80 | UInt8(replacement >> 6 & 0x3F)
                        output[written + 2] = 0x80 | UInt8(replacement & 0x3F)
                    } else {
                        output[written] = lead
                        output[written + 1] = input[read + 1]
                        output[written + 2] = input[read + 2]
                    }
                    written += 3
                    read += 3
                    continue
                }
            }
            let (scalar, length) = UTF8Scalar.decode(input, at: read, lead: lead)
            switch fold(scalar, simplifiedTable) {
            case .drop:
                break
            case .ascii(let byte):
                if let kept = keptASCII(byte) {
                    output[written] = kept
                    written += 1
                }
            case .keep:
                for offset in 0..<length {
                    output[written + offset] = input[read + offset]
                }
                written += length
            case .cjk(let replacement):
                // Simplified replacements lie in U+4E00–U+9FFF: three UTF-8 bytes, like the original.
                output[written] = 0xE0 | UInt8(replacement >> 12)
                output[written + 1] = 0x80 | UInt8(replacement >> 6 & 0x3F)
                output[written + 2] = 0x80 | UInt8(replacement & 0x3F)
                written += 3
            }
            read += length
        }
        return written
    }

    private enum Folded {
        case drop
        case ascii(UInt8)
        case keep
        case cjk(UInt32)
    }

    /// Letters (lower-cased) and digits; everything else in ASCII is space, control or punctuation.
    @inline(__always)
    private static func keptASCII(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): byte
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte | 0x20
        default: nil
        }
    }

    @inline(__always)
    private static func fold(_ scalar: UInt32, _ simplifiedTable: SimplifiedTable) -> Folded {
        switch scalar {
        case 0x4E00...0x9FFF:
            if let simplified = simplifiedTable.simplified(scalar) { return .cjk(simplified) }
            return .keep
        case 0xFF01...0xFF5E:  // full-width ASCII
            return .ascii(UInt8(scalar - 0xFEE0))
        case 0x0080...0x00BF, 0x00D7, 0x00F7,  // Latin-1 spaces, punctuation and signs
            0x2000...0x2BFF,  // general punctuation, symbols, arrows, box drawing, shapes
            0x3000...0x303F,  // ideographic space and CJK punctuation 、。《》【】「」〔〕…
            0x30FB,  // katakana middle dot ・
            0xFE00...0xFE6F,  // variation selectors, vertical and small punctuation forms
            0xFEFF,  // byte-order mark
            0xFF5F...0xFF65,  // full-width brackets, half-width CJK punctuation
            0xFFE0...0xFFEE,  // full-width signs ￥￡
            0x1F000...0x1FAFF:  // emoji and pictographs
            return .drop
        default:
            return .keep
        }
    }

    private static let simplifiedTable = SimplifiedTable(pairs: traditionalToSimplified)

    /// Traditional → simplified pairs (traditional first) for characters that occur in
    /// settlement messages. Not a full converter: only unambiguous one-to-one pairs.
    private static let traditionalToSimplified = [
        "並并亂乱亞亚來来倉仓個个們们備备傳传傷伤價价凍冻別别劑剂動动務务勞劳勢势勵励匯汇區区協协卻却厲厉參参吳吴員员問问啓启啟启",
        "喪丧單单嗎吗嚴严圍围園园圖图團团執执報报場场塊块壓压壞坏壯壮夢梦奪夺婦妇媽妈孫孙學学實实寧宁審审寫写寶宝將将專专尋寻對对",
        "導导屆届層层屬属島岛師师帳账幣币幫帮庫库廢废廣广張张強强彈弹彙汇後后徑径從从復复徵征愛爱態态慮虑憑凭憶忆應应懷怀戰战戲戏",
        "戶户掛挂損损搶抢擁拥擇择擊击擔担據据擬拟擴扩攜携攝摄敵敌數数斂敛斷断時时晉晋暫暂曆历曉晓書书會会朧胧東东條条棟栋業业極极",
        "構构標标樣样樹树橋桥機机檔档檢检權权歐欧歲岁歷历歸归殘残殺杀氣气決决沒没沖冲況况減减測测準准溫温滅灭滿满漢汉潔洁濟济災灾",
        "為为無无煙烟熱热爭争爺爷牆墙狀状獎奖獨独獲获現现環环產产畢毕畫画異异當当療疗發发盡尽監监盤盘眾众確确碼码礎础禮礼種种稱称",
        "穩稳窮穷競竞筆笔節节範范築筑簡简簽签糧粮紀纪約约紅红紙纸級级細细終终組组結结絕绝絡络給给統统絲丝經经綜综綠绿維维網网緊紧",
        "線线練练縣县總总績绩織织繳缴繼继續续罰罚罷罢義义習习聖圣聞闻聯联聲声職职聽听腦脑臨临與与興兴舉举艦舰蓋盖藝艺藥药蘇苏處处",
        "號号術术衛卫衝冲補补裝装製制複复見见規规視视親亲覺觉觀观訂订計计訊讯討讨訓训記记設设許许診诊評评詞词詢询試试話话該该詳详",
        "誌志認认誤误說说調调請请論论諸诸諾诺講讲謝谢證证識识議议護护讀读變变讓让豐丰貝贝負负財财貢贡貧贫貨货販贩責责貯贮貴贵貸贷",
        "費费資资賓宾賣卖質质賬账賴赖購购贊赞趕赶趨趋跡迹車车軍军軟软載载輕轻輛辆輪轮輸输轉转辦办農农這这連连進进運运過过達达遜逊",
        "遞递遠远適适選选遺遗邊边郵邮鄉乡鄭郑鄰邻醫医醬酱釋释針针鈣钙銀银銷销鋼钢錄录錢钱錯错鍛锻鍵键鎖锁鎮镇鐵铁長长門门閉闭開开",
        "間间閘闸閣阁閱阅關关陰阴陳陈陸陆陽阳隊队階阶際际隨随險险隱隐雖虽雙双雜杂雞鸡離离難难雲云電电靈灵靜静韓韩響响頁页頂顶項项",
        "順顺須须預预頓顿領领頭头頻频題题額额顏颜願愿類类顧顾顯显風风飛飞飯饭飲饮養养餘余館馆馬马騎骑驗验驟骤體体鬥斗鬧闹魚鱼魯鲁",
        "鮮鲜鳥鸟麗丽麥麦麼么黃黄點点黨党齊齐齒齿齡龄龍龙龜龟",
    ].joined()
}

/// Looks up the simplified form of a CJK scalar: a bitmap answers "no" for most
/// characters without a search, the sorted pairs answer the rest.
private struct SimplifiedTable: Sendable {
    private static let base: UInt32 = 0x4E00
    private var bitmap = [UInt64](repeating: 0, count: (0xA000 - 0x4E00) / 64)
    private var traditional: [UInt32] = []
    private var simplified: [UInt32] = []

    init(pairs: String) {
        var mapping: [(UInt32, UInt32)] = []
        var scalars = pairs.unicodeScalars.makeIterator()
        while let from = scalars.next(), let to = scalars.next() {
            mapping.append((from.value, to.value))
        }
        mapping.sort { $0.0 < $1.0 }
        for (from, to) in mapping {
            let index = Int(from - Self.base)
            bitmap[index >> 6] |= 1 << UInt64(index & 63)
            traditional.append(from)
            simplified.append(to)
        }
    }

    /// `scalar` must lie in U+4E00–U+9FFF.
    @inline(__always)
    func simplified(_ scalar: UInt32) -> UInt32? {
        let index = Int(scalar - Self.base)
        guard bitmap[index >> 6] & (1 << UInt64(index & 63)) != 0 else { return nil }
        var low = 0
        var high = traditional.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if traditional[middle] < scalar {
                low = middle + 1
            } else if traditional[middle] > scalar {
                high = middle - 1
            } else {
                return simplified[middle]
            }
        }
        return nil
    }
}
