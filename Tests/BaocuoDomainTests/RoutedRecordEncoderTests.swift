import Testing

@testable import BaocuoDomain

/// The encoder's precomputed cycle text is byte for byte what formatting each record gives.
@Suite struct RoutedRecordEncoderTests {
    static let configuration = HostileCorpus.configuration
    static let precomputing = RoutedRecordEncoder(configuration: configuration)
    static let formatting = RoutedRecordEncoder(
        classifier: configuration.classifier,
        utcOffsetSeconds: configuration.settings.schedule.utcOffsetSeconds)

    /// Receive times every 7 h 13 min from 2019 to 2030: every precomputed cycle (the calendar file
    /// has 2021–2026, the statutory years 2027–2028 follow), holiday-shifted intakes and due days
    /// among them, and the years either side, which are formatted.
    @Test func precomputedCycleTextMatchesTheFormattedOne() throws {
        let start = try #require(Timestamp.parseRFC3339("2019-01-01T00:00:00+08:00")).millisecondsSinceEpoch
        let end = try #require(Timestamp.parseRFC3339("2030-01-01T00:00:00+08:00")).millisecondsSinceEpoch
        let step = (7 * 60 + 13) * 60_000
        var known = 0
        var cycles = Set<WeeklyCycle>()
        for milliseconds in stride(from: start, to: end, by: step) {
            let outcome = HostileCorpus.engine.route(
                HostileCorpus.validReport,
                receivedAt: Timestamp(millisecondsSinceEpoch: milliseconds))
            guard case .routed(let routed) = outcome else {
                Issue.record("the sample report does not route: \(outcome)")
                return
            }
            if cycles.insert(routed.cycle).inserted, Self.configuration.calendar.precomputedCycles.contains(routed.cycle) {
                known += 1
            }
            for role in [RoutedRole.owner, .ops] {
                var precomputed: [UInt8] = []
                var formatted: [UInt8] = []
                HostileCorpus.validReport.withUnsafeBytes { original in
                    Self.precomputing.append(routed, role: role, originalReport: original, to: &precomputed)
                    Self.formatting.append(routed, role: role, originalReport: original, to: &formatted)
                }
                #expect(precomputed == formatted, "\(routed.cycle.week), \(role.rawValue) copy")
            }
        }
        // Both paths ran: every precomputed week's cycle, and the years outside them.
        #expect(known == Self.configuration.calendar.precomputedCycles.count)
        #expect(cycles.count > known)
    }
}
