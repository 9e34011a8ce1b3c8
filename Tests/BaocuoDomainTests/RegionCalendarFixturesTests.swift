import Foundation
import Testing

@testable import BaocuoDomain

/// Repository files and the shared samples, for the region and calendar tests.
enum RegionCalendarFixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func configFile(_ name: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("Config/\(name)"), encoding: .utf8)
    }

    static func regionTable() throws -> RegionTable {
        try RegionTable(csv: configFile("regions.csv"), source: "regions.csv")
    }

    static func workCalendar(warn: @escaping @Sendable (String) -> Void = { _ in }) throws -> WorkCalendar {
        try WorkCalendar(csv: configFile("calendar.csv"), source: "calendar.csv", schedule: Schedule(), warn: warn)
    }

    /// A routed line of `expected.jsonl` with the fields of its report in `reports.jsonl`.
    struct RoutedSample {
        var line: Int
        var expected: [String: Any]
        var report: [String: Any]

        func expectedString(_ key: String) -> String? { expected[key] as? String }
        func reportString(_ path: String...) -> String? {
            var value: Any? = report
            for key in path { value = (value as? [String: Any])?[key] }
            return value as? String
        }
    }

    /// The routed samples. `reports.jsonl` is read as bytes because one (rejected) line is not UTF-8.
    static func routedSamples() throws -> [RoutedSample] {
        let directory = repositoryRoot.appendingPathComponent("Tests/BaocuoDomainTests/Fixtures/calendar")
        func lines(_ name: String) throws -> [Data] {
            try Data(contentsOf: directory.appendingPathComponent(name))
                .split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map { Data($0) }
        }
        let reports = try lines("reports.jsonl")
        var samples: [RoutedSample] = []
        for line in try lines("expected.jsonl") where !line.isEmpty {
            let expected = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
            guard expected["status"] as? String == "routed" else { continue }
            let number = try #require(expected["line"] as? Int)
            let report = try #require(try JSONSerialization.jsonObject(with: reports[number - 1]) as? [String: Any])
            samples.append(RoutedSample(line: number, expected: expected, report: report))
        }
        return samples
    }
}

@Test func routedSamplesAreFound() throws {
    // Guards the sample-driven tests against passing vacuously on an empty or misread fixture.
    #expect(try RegionCalendarFixtures.routedSamples().count == 36)
}
