import Foundation
import Testing

@testable import BaocuoDomain

/// The hostile-input corpus (Fixtures/hostile, written by its make_corpus.py) and the engine
/// built from the repository's Config/ folder.
enum HostileCorpus {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        /// A reject code's wire spelling, or `routed`.
        let outcome: String
        /// A substring the reject detail must contain (empty for routed cases).
        let detailContains: String

        var testDescription: String { name }
    }

    static let directory = Samples.fixtures.appendingPathComponent("hostile")

    static let cases: [Case] = {
        let manifest = try! String(contentsOf: directory.appendingPathComponent("expected.tsv"), encoding: .utf8)
        return manifest.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let bytes = try! Data(contentsOf: directory.appendingPathComponent("cases").appendingPathComponent(fields[0]))
            return Case(name: fields[0], bytes: Array(bytes), outcome: fields[1], detailContains: fields[2])
        }
    }()

    static let configuration: DomainConfiguration = {
        let config = Samples.fixtures.appendingPathComponent("../../../Config").standardized.path
        do {
            return try DomainConfiguration.load(directory: config, environment: [:])
        } catch {
            fatalError("Config/ does not load: \(error)")
        }
    }()

    static let engine = RoutingEngine(configuration: configuration)
    static let encoder = RoutedRecordEncoder(
        classifier: configuration.classifier,
        utcOffsetSeconds: configuration.settings.schedule.utcOffsetSeconds)

    /// A sample report that routes, as compact bytes, for building large variants in code.
    static let validReport: [UInt8] = Array(cases.first { $0.name == "control-cr-line-end.json" }!.bytes.dropLast())

    /// `validReport` with an unknown top-level member `"x":` followed by `value`.
    static func withExtraMember(_ value: some Collection<UInt8>) -> [UInt8] {
        var bytes = Array(validReport.dropLast())
        bytes.append(contentsOf: #","x":"#.utf8)
        bytes.append(contentsOf: value)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

/// Every hostile input ends as routed or as a rejection with a known code and a precise detail.
@Suite struct HostileInputTests {
    /// Person ID values that appear in the corpus; no detail may echo them.
    static let personIds = ["410302196809084724", "410302196809084725", "4444444444"]

    /// Routes `bytes` and checks the answer: a routed report must encode to strict JSON that
    /// embeds the input; a rejection must carry a precise, bounded, PII-free detail.
    @discardableResult
    static func routeAndCheck(
        _ bytes: [UInt8], limits: DecodeLimits? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> RoutingOutcome {
        var engine = HostileCorpus.engine
        if let limits {
            engine = RoutingEngine(
                decoder: ReportDecoder(limits: limits), regions: engine.regions,
                calendar: engine.calendar, classifier: engine.classifier)
        }
        let outcome = engine.route(bytes, receivedAt: nil)
        switch outcome {
        case .routed(let routed):
            var out: [UInt8] = []
            bytes.withUnsafeBytes { original in
                HostileCorpus.encoder.append(routed, role: .ops, originalReport: original, to: &out)
            }
            var parser = JSONParser()
            // The routed record nests the report one level deeper than the report's own limit.
            let parsed = out.withUnsafeBytes { parser.parse($0, maxDepth: 64, maxValues: .max) }
            if case .failure(let error) = parsed {
                Issue.record("routed record is not strict JSON: \(error)", sourceLocation: sourceLocation)
            }
            for personId in personIds {
                #expect(
                    !String(decoding: out, as: UTF8.self).contains(personId), "ops copy leaks a person ID",
                    sourceLocation: sourceLocation)
            }
        case .rejected(let rejection):
            #expect(RejectCode.allCases.contains(rejection.code), sourceLocation: sourceLocation)
            #expect(
                namesAPlace(rejection.detail), "detail names no field, offset or size: \(rejection.detail)",
                sourceLocation: sourceLocation)
            // Details echo at most 40 characters of input; the rest is fixed wording.
            #expect(
                rejection.detail.count <= 240, "detail too long: \(rejection.detail.prefix(300))",
                sourceLocation: sourceLocation)
            for personId in personIds {
                #expect(!rejection.detail.contains(personId), "detail echoes a person ID", sourceLocation: sourceLocation)
            }
        }
        return outcome
    }

    /// A detail is precise when it names a field path (`insured.regionCode: …`), a byte offset,
    /// the object of a duplicate key, the top level, or the record's size.
    static func namesAPlace(_ detail: String) -> Bool {
        detail.contains(#/offset \d+/#)
            || detail.contains(#/^[A-Za-z]+(\.[A-Za-z]+)?: /#)
            || detail.contains(#/^duplicate key '.*' at (top level|[A-Za-z\[\]0-9.]+)$/#)
            || detail == "top level must be an object"
            || detail.contains(#/^record is \d+ bytes/#)
    }

    @Test(arguments: HostileCorpus.cases)
    func corpusCase(_ testCase: HostileCorpus.Case) {
        let outcome = Self.routeAndCheck(testCase.bytes)
        switch outcome {
        case .routed:
            #expect(testCase.outcome == "routed", "routed, expected \(testCase.outcome)")
        case .rejected(let rejection):
            #expect(rejection.code.rawValue == testCase.outcome, "\(rejection)")
            #expect(rejection.detail.contains(testCase.detailContains), "\(rejection)")
        }
    }

    @Test func corpusCoversEveryDecoderCodeAndBothOutcomes() {
        let outcomes = Set(HostileCorpus.cases.map(\.outcome))
        #expect(
            outcomes.isSuperset(of: [
                "routed", "INVALID_UTF8", "INVALID_JSON", "UNSUPPORTED_SCHEMA",
                "MISSING_FIELD", "INVALID_FIELD", "UNKNOWN_REGION",
            ]))
        #expect(HostileCorpus.cases.count >= 100)
    }

    // MARK: Large inputs, generated here rather than committed

    static func expectRejection(
        _ bytes: [UInt8], _ code: RejectCode, _ detail: String, limits: DecodeLimits? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .rejected(let rejection) = routeAndCheck(bytes, limits: limits, sourceLocation: sourceLocation) else {
            Issue.record("routed, expected \(code.rawValue)", sourceLocation: sourceLocation)
            return
        }
        #expect(rejection.code == code, "\(rejection)", sourceLocation: sourceLocation)
        #expect(rejection.detail.contains(detail), "\(rejection)", sourceLocation: sourceLocation)
    }

    static func expectRouted(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        if case .rejected(let rejection) = routeAndCheck(bytes, sourceLocation: sourceLocation) {
            Issue.record("rejected: \(rejection)", sourceLocation: sourceLocation)
        }
    }

    /// `validReport` padded with an unknown string member to exactly `size` bytes.
    static func padded(to size: Int) -> [UInt8] {
        let frame = HostileCorpus.withExtraMember(#""""#.utf8).count
        return HostileCorpus.withExtraMember(
            [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "a"), count: size - frame)
                + [UInt8(ascii: "\"")])
    }

    /// `[0,0,…,0]` with `count` elements.
    static func zeros(_ count: Int) -> [UInt8] {
        var array: [UInt8] = [UInt8(ascii: "[")]
        array.reserveCapacity(2 * count + 1)
        for k in 0..<count { array.append(contentsOf: k == 0 ? [0x30] : [0x2C, 0x30]) }
        array.append(UInt8(ascii: "]"))
        return array
    }

    @Test func recordsAtAndAboveTheSizeLimit() {
        let limit = DecodeLimits().maxRecordBytes
        let atLimit = Self.padded(to: limit)
        #expect(atLimit.count == limit)
        Self.expectRouted(atLimit)
        Self.expectRejection(Self.padded(to: limit + 1), .tooLarge, "record is \(limit + 1) bytes; the limit is \(limit)")
        Self.expectRejection(Self.padded(to: 3 * limit), .tooLarge, "record is \(3 * limit) bytes")
    }

    @Test func deepNestingStopsAtTheDepthLimit() {
        let depth = 100_000
        let bomb = Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
        Self.expectRejection(bomb, .invalidJSON, "nesting deeper than 32 at offset 32")
        Self.expectRejection(HostileCorpus.withExtraMember(bomb), .invalidJSON, "nesting deeper than 32 at offset")
        let objects = Array(repeating: Array(#"{"a":"#.utf8), count: depth).flatMap { $0 }
        Self.expectRejection(HostileCorpus.withExtraMember(objects), .invalidJSON, "nesting deeper than 32")
    }

    /// A 1M-element array is refused by its size; within the size limit, by the value limit,
    /// which bounds the parser's tape (and the work per record) to `maxValues` nodes.
    @Test func hugeArraysStopAtTheValueLimit() {
        let maxValues = DecodeLimits().maxValues
        let million = Self.zeros(1_000_000)
        Self.expectRejection(million, .tooLarge, "record is 2000001 bytes")
        Self.expectRejection(
            HostileCorpus.withExtraMember(Self.zeros(400_000)), .tooLarge,
            "more than \(maxValues) JSON values")
        let roomy = DecodeLimits(maxRecordBytes: 8 << 20)
        Self.expectRejection(million, .tooLarge, "more than \(maxValues) JSON values; the next starts at offset", limits: roomy)

        // Exactly `maxValues` values route; one more does not.
        var parser = JSONParser()
        let baseValues = HostileCorpus.validReport.withUnsafeBytes { bytes in
            try! parser.parse(bytes).get().tape.count
        }
        let elements = maxValues - baseValues - 2  // the member name and the array itself
        Self.expectRouted(HostileCorpus.withExtraMember(Self.zeros(elements)))
        Self.expectRejection(HostileCorpus.withExtraMember(Self.zeros(elements + 1)), .tooLarge, "more than \(maxValues) JSON values")
    }

    @Test func longEscapeRunsAndHugeScalars() {
        let newlines = Array(repeating: Array(#"\n"#.utf8), count: 400_000).flatMap { $0 }
        Self.expectRouted(HostileCorpus.withExtraMember([0x22] + newlines + [0x22]))
        let han = Array(repeating: Array(#"\u4e2d"#.utf8), count: 150_000).flatMap { $0 }
        Self.expectRouted(HostileCorpus.withExtraMember([0x22] + han + [0x22]))
        let surrogates = Array(repeating: Array(#"\ud83d\ude00"#.utf8), count: 80_000).flatMap { $0 }
        Self.expectRouted(HostileCorpus.withExtraMember([0x22] + surrogates + [0x22]))
        let message = Array(#""message":"#.utf8)
        var longMessage = HostileCorpus.validReport
        let at = longMessage.firstRange(of: message)!.upperBound
        longMessage.insert(contentsOf: [0x22] + han + [0x22, 0x2C, 0x22, 0x79, 0x22, 0x3A], at: at)  // "…","y":
        Self.expectRejection(longMessage, .invalidField, "failure.message: longer than 2000 characters")
        Self.expectRouted(HostileCorpus.withExtraMember(Array(repeating: UInt8(ascii: "9"), count: 1_000_000)))
        Self.expectRouted(HostileCorpus.withExtraMember(Array("1e".utf8) + Array(repeating: UInt8(ascii: "9"), count: 900_000)))
    }

    @Test func duplicateKeysInHugeObjectsAndHugeNames() {
        // A 300 KB name repeated: the detail shows 40 characters of it.
        let name = [0x22] + Array(repeating: UInt8(ascii: "k"), count: 300_000) + [0x22]
        Self.expectRejection(
            HostileCorpus.withExtraMember(Array("{".utf8) + name + Array(":1,".utf8) + name + Array(":2}".utf8)),
            .invalidJSON, "duplicate key '" + String(repeating: "k", count: 40) + "…' at x")
        // 40,000 distinct members, then the first again: found by hashing, not pairwise.
        var object = Array("{".utf8)
        for k in 0..<40_000 { object.append(contentsOf: Array(#""m\#(k)":0,"#.utf8)) }
        object.append(contentsOf: Array(#""m0":1}"#.utf8))
        Self.expectRejection(HostileCorpus.withExtraMember(object), .invalidJSON, "duplicate key 'm0' at x")
        object.removeLast(8)
        object.append(UInt8(ascii: "}"))
        Self.expectRouted(HostileCorpus.withExtraMember(object))
    }

    @Test func invalidUTF8AnywhereInALargeRecord() {
        var record = Self.padded(to: DecodeLimits().maxRecordBytes)
        record[record.count - 3] = 0xC0
        Self.expectRejection(record, .invalidUTF8, "invalid UTF-8 at offset \(record.count - 3)")
        // Invalid UTF-8 outranks the value limit too: the answer does not depend on what comes first.
        var many = HostileCorpus.withExtraMember(Self.zeros(200_000))
        many[many.count - 10] = 0xFF
        Self.expectRejection(many, .invalidUTF8, "invalid UTF-8 at offset \(many.count - 10)")
    }

    /// Kafka record timestamps are any `Int64`: outside the calendar's years the record is
    /// rejected (it used to trap in `IsoWeek`), and formatting such an instant (for the
    /// dead-letter headers) does not trap either.
    @Test func extremeReceiveTimes() {
        let engine = HostileCorpus.engine
        for milliseconds in [Int64.max, .min, 253_402_300_800_000, -62_135_625_600_001] {
            let time = Timestamp(millisecondsSinceEpoch: milliseconds)
            guard case .rejected(let rejection) = engine.route(HostileCorpus.validReport, receivedAt: time) else {
                Issue.record("routed with record timestamp \(milliseconds)")
                continue
            }
            #expect(rejection.code == .invalidField)
            #expect(
                rejection.detail.hasPrefix("record timestamp: ")
                    && rejection.detail.hasSuffix("is outside the years 0001–9998 the weekly calendar can place"),
                "\(rejection)")
            #expect(!time.rfc3339(utcOffsetSeconds: 8 * 3600).isEmpty)
        }
        #expect(Timestamp(millisecondsSinceEpoch: .min).rfc3339(utcOffsetSeconds: 0) == "-292275055-05-16T16:47:04.192Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).rfc3339(utcOffsetSeconds: 8 * 3600) == "1970-01-01T07:59:59.999+08:00")
        // Years beyond four digits are written in full, year 0 padded to four.
        #expect(Timestamp(millisecondsSinceEpoch: 253_402_300_800_000).rfc3339(utcOffsetSeconds: 0) == "10000-01-01T00:00:00Z")
        #expect(Timestamp(millisecondsSinceEpoch: -62_167_219_200_000).rfc3339(utcOffsetSeconds: -3600) == "-1-12-31T23:00:00-01:00")
        #expect(Timestamp(millisecondsSinceEpoch: -62_167_219_200_000).rfc3339(utcOffsetSeconds: 0) == "0000-01-01T00:00:00Z")
        // Kafka's "no timestamp" (-1) is an ordinary 1970 instant: routed, not rejected.
        guard case .routed = engine.route(HostileCorpus.validReport, receivedAt: Timestamp(millisecondsSinceEpoch: -1)) else {
            Issue.record("timestamp -1 rejected")
            return
        }
    }
}
