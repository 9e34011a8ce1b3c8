/// A medical-insurance pooling region (统筹区): the unit that owns reports and has an agency queue.
///
/// Immutable, and a class so that every routed report holds its owner with one reference instead
/// of retaining and releasing four strings (the router and `classify` copy one or two per report).
/// Equal by value, as a struct would be.
public final class PoolingRegion: Sendable, Hashable {
    /// What kind of administrative unit pools the fund.
    public enum Level: String, Sendable, Hashable, CaseIterable {
        /// A prefecture-level city (地级市) pooling its districts and counties.
        case prefecture
        /// A municipality directly under the central government (直辖市), e.g. 北京市.
        case municipality
        /// A county-level city or area administered directly by the province (省直管县), e.g. 仙桃市.
        case countyDirect = "county-direct"
        /// The provincial-level pool (省本级, `XX9900`) for people insured with the province itself.
        case provincePool = "province-pool"
    }

    /// Six-digit administrative code, e.g. `"410100"`.
    public let code: String
    /// The region's Chinese name, e.g. `郑州市`.
    public let name: String
    /// What kind of administrative unit pools the fund.
    public let level: Level
    /// The province's `XX0000` code.
    public let provinceCode: String
    /// The province's Chinese name, e.g. `河南省`.
    public let provinceName: String

    /// A region from its fields, taken as given.
    public init(code: String, name: String, level: Level, provinceCode: String, provinceName: String) {
        self.code = code
        self.name = name
        self.level = level
        self.provinceCode = provinceCode
        self.provinceName = provinceName
    }

    /// Equal when every field is equal (or the same instance).
    public static func == (lhs: PoolingRegion, rhs: PoolingRegion) -> Bool {
        lhs === rhs
            || (lhs.code == rhs.code && lhs.name == rhs.name && lhs.level == rhs.level
                && lhs.provinceCode == rhs.provinceCode && lhs.provinceName == rhs.provinceName)
    }

    /// Hashes every field, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(name)
        hasher.combine(level)
        hasher.combine(provinceCode)
        hasher.combine(provinceName)
    }
}

// The fields, as the struct printed them before it became a class: test failures stay readable.
extension PoolingRegion: CustomStringConvertible {
    /// All five fields, as the struct printed them before it became a class.
    public var description: String {
        "PoolingRegion(code: \(code), name: \(name), level: \(level), provinceCode: \(provinceCode), provinceName: \(provinceName))"
    }
}

/// The pooling regions of `Config/regions.csv`, and the resolution of any 6-digit
/// administrative code to the pooling region that owns it (CONTRACT §2).
public struct RegionTable: Sendable {
    /// All pooling regions, sorted by code.
    public let regions: [PoolingRegion]
    /// The distinct `XX0000` province codes, sorted.
    public let provinces: [String]
    /// From a code's six-digit value to its index into `regions`. `resolve` runs twice per
    /// report and a code is usually a district or county, so most lookups miss once before
    /// finding the prefecture. The table is a few KB so that it stays in cache between reports:
    /// a direct table of all 1,000,000 values (2 MB) took ~40 ns a lookup when looped over alone
    /// but missed the cache in the pipeline (3.5 % of `baocuo classify`'s samples, ~1 % of its
    /// instructions); `[Int: Int]` took ~120–170 ns (two hashes), `[String: Int]` ~400–540 ns.
    private let index: PackedHashTable
    private let regionsByProvince: [String: [PoolingRegion]]

    /// Parses the regions file: header `code,name,level,province_code,province_name`.
    /// - Parameter source: the file name used in error messages.
    public init(csv: String, source: String) throws(ConfigError) {
        let header = ["code", "name", "level", "province_code", "province_name"]
        let rows = try CSVRows(csv, source: source, header: header).rows
        var parsed: [PoolingRegion] = []
        var lineByCode: [Int: Int] = [:]
        var provinceNames: [String: (name: String, line: Int)] = [:]
        for row in rows {
            func fail(_ reason: String) -> ConfigError { ConfigError(file: source, line: row.line, reason: reason) }
            let code = String(row.fields[0])
            let name = String(row.fields[1])
            let provinceCode = String(row.fields[3])
            let provinceName = String(row.fields[4])
            guard let value = Self.codeValue(code.utf8), value % 10_000 != 0 else {
                throw fail("bad region code \"\(code)\": expected 6 digits, not a province's XX0000")
            }
            guard !name.isEmpty else { throw fail("empty name for region \(code)") }
            guard let level = PoolingRegion.Level(rawValue: String(row.fields[2])) else {
                let known = PoolingRegion.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail("unknown level \"\(row.fields[2])\" for region \(code); known levels: \(known)")
            }
            guard let provinceValue = Self.codeValue(provinceCode.utf8), provinceValue % 10_000 == 0,
                provinceValue / 10_000 == value / 10_000
            else {
                throw fail("bad province code \"\(provinceCode)\" for region \(code): expected \(code.prefix(2))0000")
            }
            guard !provinceName.isEmpty else { throw fail("empty province name for region \(code)") }
            if let known = provinceNames[provinceCode], known.name != provinceName {
                throw fail("province \(provinceCode) is named \"\(provinceName)\" here but \"\(known.name)\" on line \(known.line)")
            }
            provinceNames[provinceCode] = provinceNames[provinceCode] ?? (provinceName, row.line)
            if let firstLine = lineByCode[value] {
                throw fail("duplicate region code \(code) (first on line \(firstLine))")
            }
            lineByCode[value] = row.line
            parsed.append(
                PoolingRegion(
                    code: code, name: name, level: level,
                    provinceCode: provinceCode, provinceName: provinceName))
        }
        guard !parsed.isEmpty else { throw ConfigError(file: source, reason: "no pooling regions") }
        guard parsed.count <= Int(UInt16.max) else {
            throw ConfigError(file: source, reason: "too many pooling regions (\(parsed.count))")
        }
        parsed.sort { $0.code < $1.code }
        regions = parsed
        provinces = provinceNames.keys.sorted()
        var positionByCode: [Int: Int] = [:]
        for (position, region) in parsed.enumerated() { positionByCode[Self.codeValue(region.code.utf8)!] = position }
        // The municipalities' county prefixes (`XX02`, `XX03`) enter the index as if they were
        // prefectures owned by `XX0100`: `resolve` then finds them with its prefecture lookup, and
        // the per-report path stays two probes at most. A prefix that is itself a pool keeps it.
        var aliases: [(code: Int, position: Int)] = []
        for municipality in Self.municipalityProvinces {
            guard let pool = positionByCode[municipality * 10_000 + 100] else { continue }
            for prefix in Self.municipalityCountyPrefixes where positionByCode[municipality * 10_000 + prefix] == nil {
                aliases.append((municipality * 10_000 + prefix, pool))
            }
        }
        var index = PackedHashTable(capacity: parsed.count + aliases.count)
        for (position, region) in parsed.enumerated() {
            index.insert(UInt16(position), for: UInt64(Self.codeValue(region.code.utf8)!))
        }
        for alias in aliases { index.insert(UInt16(alias.position), for: UInt64(alias.code)) }
        self.index = index
        regionsByProvince = Dictionary(grouping: parsed, by: \.provinceCode)
    }

    /// The municipalities directly under the central government (北京 11, 天津 12, 上海 31, 重庆 50).
    static let municipalityProvinces = [11, 12, 31, 50]
    /// `XX02nn` and `XX03nn` are a municipality's county codes (县, e.g. 重庆 500230, 北京's former
    /// 110228), written here as the `XXXX00` prefix they share.
    static let municipalityCountyPrefixes = [200, 300]

    /// The pooling region that owns an administrative code (CONTRACT §2): the code itself if it is
    /// a pooling region; else its prefecture `XXXX00` if that is one; else, in the four
    /// municipalities (`XX` = 11, 12, 31, 50), a county code `XX02nn` or `XX03nn` resolves to the
    /// municipality's pool `XX0100`; else nil. The last rule is resolved when the table is built
    /// (see `init`), so a lookup costs the same as before it.
    public func resolve(_ code: String) -> PoolingRegion? {
        resolve(utf8: code.utf8)
    }

    /// `resolve` for a code given as UTF-8 bytes (a report's field, without making a `String`).
    @inline(__always)
    func resolve<Code: Collection<UInt8>>(utf8 code: Code) -> PoolingRegion? {
        guard let value = Self.codeValue(code) else { return nil }
        guard let position = index.value(for: UInt64(value)) ?? index.value(for: UInt64(value - value % 100)) else {
            return nil
        }
        return regions[Int(position)]
    }

    /// The `XX0000` province of the pooling region that `code` resolves to, or nil when it resolves to none.
    public func province(of code: String) -> String? {
        resolve(code)?.provinceCode
    }

    /// The pooling regions of a province (`XX0000`), sorted by code; empty for an unknown province.
    public func regions(inProvince province: String) -> [PoolingRegion] {
        regionsByProvince[province] ?? []
    }

    /// The integer value of exactly six ASCII digits, or nil.
    @inline(__always)
    private static func codeValue<Code: Collection<UInt8>>(_ utf8: Code) -> Int? {
        guard utf8.count == 6 else { return nil }
        var value = 0
        for byte in utf8 {
            guard byte &- UInt8(ascii: "0") < 10 else { return nil }
            value = value &* 10 &+ Int(byte &- UInt8(ascii: "0"))
        }
        return value
    }
}
