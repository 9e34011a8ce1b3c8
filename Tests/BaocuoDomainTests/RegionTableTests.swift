import Testing

@testable import BaocuoDomain

@Suite struct RegionTableTests {
    let table: RegionTable

    init() throws { table = try RegionCalendarFixtures.regionTable() }

    @Test func loadsTheRegionsFile() {
        #expect(table.regions.count == 401)
        #expect(table.provinces.count == 31)
        #expect(table.regions.map(\.code) == table.regions.map(\.code).sorted())
        #expect(table.provinces == table.provinces.sorted())
        let levels = Dictionary(grouping: table.regions, by: \.level).mapValues(\.count)
        #expect(levels == [.prefecture: 334, .municipality: 4, .countyDirect: 32, .provincePool: 31])
        #expect(
            table.resolve("429006")
                == PoolingRegion(
                    code: "429006", name: "天门市", level: .countyDirect,
                    provinceCode: "420000", provinceName: "湖北省"))
    }

    @Test(arguments: [
        ("210727", "210700"), ("320583", "320500"),  // county → prefecture
        ("410105", "410100"), ("110108", "110100"),  // district → prefecture, municipality
        ("410100", "410100"),  // a pool as is
        ("429006", "429006"), ("469001", "469001"), ("659001", "659001"),  // province-administered
        ("449900", "449900"), ("119900", "119900"),  // provincial pools
    ])
    func resolvesToThePoolingRegion(code: String, pool: String) {
        #expect(table.resolve(code)?.code == pool)
    }

    // CONTRACT §2 (2026-12-06): a municipality's county codes XX02nn / XX03nn resolve to XX0100.
    @Test(arguments: [
        ("110228", "110100"), ("110229", "110100"), ("110200", "110100"),  // Beijing's former counties (密云, 延庆)
        ("120221", "120100"), ("120223", "120100"), ("120225", "120100"),  // Tianjin's former counties (宁河, 静海, 蓟县)
        ("310230", "310100"), ("310301", "310100"),  // Shanghai: 崇明县 (310230), the pattern's 03 block
        ("500230", "500100"), ("500240", "500100"), ("500243", "500100"), ("500300", "500100"),  // Chongqing's counties
        ("500101", "500100"), ("310115", "310100"),  // districts: the prefecture rule, as before
        ("119900", "119900"), ("509900", "509900"),  // a pool is used as is
    ])
    func resolvesMunicipalityCounties(code: String, pool: String) {
        #expect(table.resolve(code)?.code == pool)
        #expect(table.resolve(code)?.level == (pool.hasSuffix("9900") ? .provincePool : .municipality))
    }

    @Test(arguments: ["110400", "120401", "310900", "500500", "500401"])  // other blocks are not counties
    func municipalityRuleIsNarrow(code: String) {
        #expect(table.resolve(code) == nil)
    }

    @Test func countyRuleIsForTheFourMunicipalitiesOnly() {
        // Elsewhere XX02 is an ordinary prefecture (开封, 唐山) and owns its counties itself.
        #expect(table.resolve("410230")?.code == "410200")
        #expect(table.resolve("130230")?.code == "130200")
        #expect(table.resolve("510230") == nil)  // 四川 has no 510200 pool, and 510100 does not take it
    }

    @Test func municipalityCountyPrefixThatIsAPoolKeepsIt() throws {
        // The prefecture rule comes first: a regions file that pools XX02 itself owns its counties.
        let header = "code,name,level,province_code,province_name\n"
        let table = try RegionTable(
            csv: header + "500100,重庆市,municipality,500000,重庆市\n"
                + "500200,重庆市县,prefecture,500000,重庆市\n", source: "regions.csv")
        #expect(table.resolve("500230")?.code == "500200")
        #expect(table.resolve("500330")?.code == "500100")
        #expect(table.resolve("500200")?.code == "500200")
        // No XX0100 pool: nothing to resolve to.
        let withoutPool = try RegionTable(csv: header + "509900,重庆市本级,province-pool,500000,重庆市\n", source: "regions.csv")
        #expect(withoutPool.resolve("500230") == nil)
    }

    @Test(arguments: [
        "410000",  // a province is not a pooling region, and is its own prefecture
        "429001",  // neither a pool nor under a prefecture pool (429000 is none)
        "469003",  // same, in Hainan
        "999999", "000000",
        "41010", "4101050", "", "41010a", " 41010", "４１０１０５",  // not six ASCII digits
    ])
    func doesNotResolve(code: String) {
        #expect(table.resolve(code) == nil)
        #expect(table.province(of: code) == nil)
    }

    @Test func provinceOfACode() {
        #expect(table.province(of: "210727") == "210000")
        #expect(table.province(of: "119900") == "110000")
        #expect(table.province(of: "659001") == "650000")
    }

    @Test func regionsOfAProvince() {
        let hubei = table.regions(inProvince: "420000")
        #expect(hubei.count == 18)
        #expect(hubei.allSatisfy { $0.provinceCode == "420000" && $0.provinceName == "湖北省" })
        #expect(hubei.map(\.code).contains("429006"))
        #expect(hubei.map(\.code) == hubei.map(\.code).sorted())
        #expect(table.regions(inProvince: "110000").map(\.code) == ["110100", "119900"])
        #expect(table.regions(inProvince: "990000").isEmpty)
        #expect(table.provinces.reduce(0) { $0 + table.regions(inProvince: $1).count } == 401)
    }

    @Test func samplesResolveToTheirExpectedOwnerAndCopy() throws {
        for sample in try RegionCalendarFixtures.routedSamples() {
            let insured = try #require(sample.reportString("insured", "regionCode"))
            let hospital = try #require(sample.reportString("hospital", "regionCode"))
            #expect(table.resolve(insured)?.code == sample.expectedString("owner"), "line \(sample.line)")
            let cc = try #require(sample.expected["cc"] as? [String])
            if let copied = cc.first {
                #expect(cc == [table.resolve(hospital)?.code], "line \(sample.line)")
                #expect(copied != sample.expectedString("owner"), "line \(sample.line)")
            }
        }
    }
}

@Suite struct RegionTableFileErrorTests {
    static let header = "code,name,level,province_code,province_name\n"

    func error(_ body: String, header: String = header) -> ConfigError? {
        do {
            _ = try RegionTable(csv: header + body, source: "regions.csv")
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsCRLFAndBlankLines() throws {
        let table = try RegionTable(
            csv: Self.header + "110100,北京市,municipality,110000,北京市\r\n\r\n"
                + "119900,北京市本级,province-pool,110000,北京市\r\n", source: "regions.csv")
        #expect(table.regions.map(\.code) == ["110100", "119900"])
    }

    @Test func reportsFileLineAndReason() {
        let body = "110100,北京市,municipality,110000,北京市\n11010X,北京市,municipality,110000,北京市\n"
        #expect(error(body)?.description == #"regions.csv:3: bad region code "11010X": expected 6 digits, not a province's XX0000"#)
    }

    @Test func rejectsWrongColumnCount() {
        let e = error("110100,北京市,municipality,110000\n")
        #expect(e?.line == 2)
        #expect(e?.reason.contains("expected 5 columns") == true)
        #expect(error("110100,北京,市,municipality,110000,北京市\n")?.line == 2)
    }

    @Test func rejectsDuplicateCode() {
        let body =
            "110100,北京市,municipality,110000,北京市\n119900,北京市本级,province-pool,110000,北京市\n"
            + "110100,北京,municipality,110000,北京市\n"
        #expect(error(body) == ConfigError(file: "regions.csv", line: 4, reason: "duplicate region code 110100 (first on line 2)"))
    }

    @Test func rejectsUnknownLevelProvinceMismatchAndProvinceCodes() {
        #expect(error("110100,北京市,city,110000,北京市\n")?.reason.contains("unknown level \"city\"") == true)
        #expect(error("110100,北京市,municipality,120000,北京市\n")?.reason.contains("expected 110000") == true)
        #expect(error("110000,北京市,municipality,110000,北京市\n")?.reason.contains("bad region code") == true)
        let renamed = error("110100,北京市,municipality,110000,北京市\n119900,北京本级,province-pool,110000,北京\n")
        #expect(renamed?.line == 3)
        #expect(renamed?.reason.contains("on line 2") == true)
    }

    @Test func rejectsBadHeaderAndEmptyFiles() {
        #expect(error("110100,北京市,municipality,110000,北京市\n", header: "code,name,level\n")?.line == 1)
        #expect(error("", header: "")?.line == nil)
        #expect(error("")?.reason == "no pooling regions")
    }
}
