import Foundation
import Testing

/// `baocuo classify`, `baocuo calendar` and `baocuo config check` as a user runs them (CONTRACT §7),
/// in a child process.
struct OfflineCLITests {
    /// Runs the CLI with `input` on stdin and `environment` added to this process's; returns
    /// (exit status, stdout lines).
    func runCLI(_ arguments: [String], input: [UInt8], environment: [String: String] = [:]) throws -> (Int32, [String]) {
        let (status, stdout, _) = try runCLIWithErrors(arguments, input: input, environment: environment)
        return (status, stdout)
    }

    /// ``runCLI(_:input:environment:)`` with stderr's lines too.
    func runCLIWithErrors(
        _ arguments: [String], input: [UInt8], environment: [String: String] = [:],
        config: Bool = true
    ) throws -> (Int32, [String], [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.baocuo)
        process.arguments = arguments + (config ? ["--config", TestPaths.config] : [])
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BAOCUO_") }
            .merging(environment) { _, added in added }
        let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("baocuo-cli-\(UUID().uuidString)")
        try Data(input).write(to: inputFile)
        defer { try? FileManager.default.removeItem(at: inputFile) }
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        let output = Pipe()
        process.standardOutput = output
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("baocuo-cli-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        func lines(_ data: Data) -> [String] {
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            return lines.last == "" ? Array(lines.dropLast()) : lines
        }
        return (process.terminationStatus, lines(data), lines(try Data(contentsOf: errorFile)))
    }

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func classifyMatchesEveryExpectedSampleLine() throws {
        let input = try Data(contentsOf: URL(fileURLWithPath: TestPaths.samples))
        let expectedPath = TestPaths.checkout.appendingPathComponent("Tests/BaocuoDomainTests/Fixtures/calendar/expected.jsonl").path
        let expected = try String(contentsOfFile: expectedPath, encoding: .utf8).split(separator: "\n").map(String.init)
        let (status, lines) = try runCLI(["classify"], input: Array(input))
        #expect(status == 0)
        try #require(lines.count == expected.count)
        for (line, expectedLine) in zip(lines, expected) {
            let got = try object(line)
            let want = try object(expectedLine)
            #expect(got["status"] as? String == want["status"] as? String, "line \(want["line"] ?? "?")")
            for key in ["reportId", "category", "responsible", "owner", "role", "intakeBatch", "intakeAt", "dueBy"] {
                #expect(got[key] as? String == want[key] as? String, "line \(want["line"] ?? "?"): \(key)")
            }
            #expect(got["cc"] as? [String] == want["cc"] as? [String], "line \(want["line"] ?? "?"): cc")
            if let error = want["error"] as? [String: Any] {
                let gotError = try #require(got["error"] as? [String: Any])
                #expect(gotError["code"] as? String == error["code"] as? String)
                #expect((gotError["detail"] as? String)?.isEmpty == false)
                #expect(got["line"] as? Int == want["line"] as? Int)
            }
        }
    }

    @Test func garbageNeverCrashesAndEveryLineIsAnswered() throws {
        var generator = TestRandom(seed: 20_261_123)
        var input: [UInt8] = []
        var nonBlank = 0
        for _ in 0..<2000 {
            let length = Int(generator.next() % 300)
            var line = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }.filter { $0 != 0x0A }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { line = [0x7B] }
            nonBlank += 1
            input += line + [0x0A]
        }
        input += [0x0A, 0x20, 0x0A]  // blank lines: skipped without output
        let (status, lines) = try runCLI(["classify"], input: input)
        #expect(status == 0)
        #expect(lines.count == nonBlank)
        for (index, line) in lines.enumerated() {
            let answer = try object(line)
            #expect(answer["status"] as? String == "rejected")
            #expect(answer["line"] as? Int == index + 1)
        }
    }

    @Test func aLineOverTheRecordLimitIsTooLargeAndTheNextLineStillCounts() throws {
        let sample = SampleReports.lines[0]
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: (1 << 20) + 10)
        let (status, lines) = try runCLI(["classify"], input: huge + [0x0A] + sample + [0x0A])
        #expect(status == 0)
        try #require(lines.count == 2)
        let first = try object(lines[0])
        #expect((first["error"] as? [String: Any])?["code"] as? String == "TOO_LARGE")
        #expect(try object(lines[1])["status"] as? String == "routed")
        #expect(try object(lines[1])["line"] as? Int == 2)
    }

    @Test func classifyRoutesAMunicipalityCountyToTheMunicipality() throws {
        // CONTRACT §2 (2026-12-06): Chongqing's county 500230 (and Beijing's former 110228) belong to XX0100.
        var lines: [UInt8] = []
        for (index, code) in ["500230", "110228"].enumerated() {
            var report = try object(String(decoding: SampleReports.lines[0], as: UTF8.self))
            var insured = try #require(report["insured"] as? [String: Any])
            insured["regionCode"] = code
            insured["personId"] = nil
            report["insured"] = insured
            report["reportId"] = "MUNICIPALITY-\(index)"
            lines += try JSONSerialization.data(withJSONObject: report) + [0x0A]
        }
        let (status, output) = try runCLI(["classify"], input: lines)
        #expect(status == 0)
        try #require(output.count == 2)
        #expect(try object(output[0])["owner"] as? String == "500100")
        #expect(try object(output[1])["owner"] as? String == "110100")
        #expect(try object(output[0])["status"] as? String == "routed")
    }

    @Test func calendarPrintsTheContractExample() throws {
        let (status, lines) = try runCLI(["calendar", "--at", "2026-11-23T09:15:00+08:00"], input: [])
        #expect(status == 0)
        #expect(
            lines == [
                #"{"receivedAt":"2026-11-23T09:15:00+08:00","intakeBatch":"2026-W49","intakeAt":"2026-11-30T09:00:00+08:00","dueBy":"2026-12-04T16:00:00+08:00"}"#
            ])
        let (badStatus, _) = try runCLI(["calendar", "--at", "next monday"], input: [])
        #expect(badStatus != 0, "a bad timestamp is a usage error")
    }

    @Test func calendarBeyondTheFileKeepsTheStatutoryHolidays() throws {
        // CONTRACT §6 (amended 2026-12-06): the file ends with 2026.
        for (at, expected) in [
            (
                "2026-12-25T17:00:00+08:00",
                #""intakeBatch":"2026-W53","intakeAt":"2026-12-28T09:00:00+08:00","dueBy":"2026-12-31T16:00:00+08:00"}"#
            ),
            (
                "2027-01-26T10:00:00+08:00",
                #""intakeBatch":"2027-W05","intakeAt":"2027-02-01T09:00:00+08:00","dueBy":"2027-02-04T16:00:00+08:00"}"#
            ),
            (
                "2027-03-30T10:00:00+08:00",
                #""intakeBatch":"2027-W14","intakeAt":"2027-04-06T09:00:00+08:00","dueBy":"2027-04-09T16:00:00+08:00"}"#
            ),
        ] {
            let (status, lines) = try runCLI(["calendar", "--at", at], input: [])
            #expect(status == 0)
            #expect(lines == [#"{"receivedAt":"\#(at)",\#(expected)"#])
        }
    }

    @Test func calendarYearListsEveryCycleWithItsBasis() throws {
        let (status, lines) = try runCLI(["calendar", "--year", "2027", "--json"], input: [])
        #expect(status == 0)
        let cycles = try lines.map(object)
        #expect(cycles.count == 52)
        #expect(cycles.allSatisfy { $0["basis"] as? String == "statutory" })
        #expect(cycles.first { $0["week"] as? String == "2027-W06" }?["intakeAt"] as? String == "2027-02-11T09:00:00+08:00")
        let (_, year2026) = try runCLI(["calendar", "--year", "2026", "--json"], input: [])
        let basis2026 = try year2026.map { try object($0)["basis"] as? String }
        #expect(basis2026.count == 52)  // 2026-W08 has no cycle
        #expect(basis2026.dropLast().allSatisfy { $0 == "published" })
        #expect(basis2026.last == "statutory")  // 2026-W53: Friday is 1 January 2027
        let (text, textLines) = try runCLI(["calendar", "--year", "2026"], input: [])
        #expect(text == 0)
        #expect(textLines.contains { $0.hasPrefix("2026-W08  no working day") })
    }

    @Test func calendarCheckExitCodes() throws {
        let (status, lines) = try runCLI(["calendar", "check"], input: [])
        #expect(status == 0)
        #expect(lines.last?.contains("is valid: covers 2021–2026") == true)
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("baocuo-calendar-\(UUID().uuidString).csv")
        try Data("date,kind,occasion\n2027-01-01,holiday,New Year's Day\n2027-01-01,holiday,again\n".utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        let (badStatus, badLines) = try runCLI(["calendar", "check", "--file", bad.path], input: [])
        #expect(badStatus == 1)
        #expect(badLines.contains("\(bad.path):3: duplicate date 2027-01-01 (first on line 2)"))
        let (missingStatus, _) = try runCLI(["calendar", "check", "--file", bad.path + ".missing"], input: [])
        #expect(missingStatus == 2)
    }

    @Test func configCheckRefusesALibrdkafkaPropertyAClientWouldRefuse() throws {
        let (status, lines) = try runCLI(["config", "check"], input: [])
        #expect(status == 0)
        #expect(lines.first?.hasSuffix("is valid") == true)
        // The calendar's horizon (CONTRACT §6 amended): covered years, provisional ones, and from 1 November a warning.
        #expect(
            lines.contains(
                "  calendar      covers 2021–2026 (published); 2027 and later provisional (weekends and statutory holidays only)"))
        let (_, november) = try runCLI(["config", "check", "--now", "2026-11-01T00:00:00+08:00"], input: [])
        #expect(november.last?.hasPrefix("warning: calendar.csv ends with 2026: 2027's cycles are provisional") == true)
        let (_, october) = try runCLI(["config", "check", "--now", "2026-10-31T23:59:59+08:00"], input: [])
        #expect(!october.contains { $0.hasPrefix("warning:") })

        // Errors go to stderr, nothing to stdout.
        let (unknownStatus, unknownOut, unknown) = try runCLIWithErrors(
            ["config", "check"], input: [],
            environment: ["BAOCUO_KAFKA_PROPERTY_NO_SUCH_PROPERTY": "1"])
        #expect(unknownStatus == 1)
        #expect(unknownOut.isEmpty)
        #expect(unknown.joined().contains("no.such.property"))

        let (refusedStatus, _, refused) = try runCLIWithErrors(
            ["config", "check"], input: [],
            environment: ["BAOCUO_KAFKA_PROPERTY_SECURITY_PROTOCOL": "s3cr3t-looking"])
        #expect(refusedStatus == 1)
        #expect(refused.joined().contains("security.protocol"))
        #expect(!refused.joined().contains("s3cr3t"), "a refused value may be a secret: never echoed")
    }

    @Test func configCheckRefusesAnUnknownBaocuoVariable() throws {
        let (status, stdout, stderr) = try runCLIWithErrors(
            ["config", "check"], input: [],
            environment: ["BAOCUO_ROUTER_MAX_INFLIGHT_RECORDS": "5"])
        #expect(status == 1)
        #expect(stdout.isEmpty)
        #expect(
            stderr.joined().contains(
                "BAOCUO_ROUTER_MAX_INFLIGHT_RECORDS: unknown setting; did you mean BAOCUO_ROUTER_MAX_IN_FLIGHT_RECORDS?"),
            "\(stderr)")
    }

    /// Runtime failures: one `baocuo: error:` line naming the file, exit 2, no usage. Usage errors keep 64.
    @Test func runtimeErrorsAreOneLineAndNotUsage() throws {
        for arguments in [["run", "--config", "/nonexistent"], ["classify", "--input", "/nonexistent"]] {
            let (status, _, stderr) = try runCLIWithErrors(arguments, input: [], config: !arguments.contains("--config"))
            #expect(status == 2, "\(arguments): \(stderr)")
            #expect(
                stderr.count == 1 && stderr[0].hasPrefix("baocuo: error: ") && stderr[0].contains("/nonexistent"), "\(arguments): \(stderr)"
            )
            #expect(!stderr.joined().contains("Usage:"))
        }
        let (brokersStatus, _, brokers) = try runCLIWithErrors(["run", "--brokers", "127.0.0.1:abc"], input: [])
        #expect(brokersStatus == 64)
        #expect(brokers.joined().contains("127.0.0.1:abc"))
        let (versionStatus, version, _) = try runCLIWithErrors(["--version"], input: [], config: false)
        #expect(versionStatus == 0)
        #expect(version.first?.hasPrefix("baocuo ") == true && version.first?.contains("librdkafka 2.") == true, "\(version)")
    }
}
