import BaocuoDomain
import BaocuoPipeline
import Foundation

/// Writes the demo's human-readable report to stdout.
final class DemoPrinter {
    func title(_ text: String) {
        Swift.print("\n\(text)\n\(String(repeating: "═", count: 72))")
    }

    func section(_ text: String) {
        Swift.print("\n\(text)")
    }

    func line(_ text: String) {
        Swift.print(text)
    }

    func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(Self.width)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], Self.width(cell)) }
        }
        func render(_ cells: [String]) -> String {
            "  "
                + cells.enumerated().map { index, cell in
                    cell + String(repeating: " ", count: widths[index] - Self.width(cell))
                }.joined(separator: "  ")
        }
        Swift.print(render(header))
        Swift.print("  " + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
        for row in rows { Swift.print(render(row)) }
    }

    /// Display width: CJK characters take two columns on a terminal.
    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in
            switch scalar.value {
            case 0x2E80...0x9FFF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFF00...0xFF60: width + 2
            default: width + 1
            }
        }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", duration.inSeconds)
    }
}

/// Counts what the router wrote: per category, per owner agency, copies, and dead-letter reasons.
struct RoutingSummary {
    var byCategory: [String: (owner: Int, cc: Int, ops: Int)] = [:]
    var byOwner: [String: Int] = [:]
    var deadLetters: [(code: String, detail: String)] = []
    var ownerCopies = 0
    let inputCount: Int
    let regions: RegionTable

    init(records: [StoredRecord], names: TopicNames, regions: RegionTable, inputCount: Int) {
        self.inputCount = inputCount
        self.regions = regions
        for record in records {
            if record.topic == names.failuresDLQ {
                deadLetters.append((record.header(DeadLetterHeader.errorCode) ?? "?", record.header(DeadLetterHeader.errorDetail) ?? ""))
                continue
            }
            guard let routed = try? JSONDecoder().decode(RoutedFields.self, from: Data(record.value)),
                let category = routed.category, let role = routed.role
            else { continue }
            var counts = byCategory[category] ?? (0, 0, 0)
            switch role {
            case "owner":
                counts.owner += 1
                ownerCopies += 1
                if let owner = routed.owner { byOwner[owner, default: 0] += 1 }
            case "cc": counts.cc += 1
            default: counts.ops += 1
            }
            byCategory[category] = counts
        }
    }

    func print(to out: DemoPrinter) {
        out.section("By category")
        out.table(
            ["category", "label", "reports", "cc copies", "ops copies"],
            Category.allCases.compactMap { category in
                guard let counts = byCategory[category.rawValue] else { return nil }
                return [category.rawValue, category.label, "\(counts.owner)", "\(counts.cc)", "\(counts.ops)"]
            })
        out.section("By owner agency (insured region)")
        out.table(
            ["region", "name", "reports"],
            byOwner.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { code, count in
                [code, regions.resolve(code)?.name ?? "?", "\(count)"]
            })
        out.section("Dead-letter queue")
        let reasons = Dictionary(grouping: deadLetters, by: \.code).sorted { $0.key < $1.key }
        out.table(
            ["code", "count", "example detail"],
            reasons.map { code, entries in
                [code, "\(entries.count)", String(entries[0].detail.prefix(70))]
            })
        let accounted = ownerCopies + deadLetters.count
        out.section(
            accounted == inputCount
                ? "Every input accounted for: \(ownerCopies) owner copies + \(deadLetters.count) dead letters = \(inputCount) reports."
                : "MISMATCH: \(ownerCopies) owner copies + \(deadLetters.count) dead letters ≠ \(inputCount) reports.")
    }
}

/// The routed v1 fields the summary counts (CONTRACT §3); each nil when absent or not a string.
private struct RoutedFields: Decodable {
    var category: String?
    var role: String?
    var owner: String?

    enum CodingKeys: String, CodingKey { case category, role, owner }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        category = try? container.decode(String.self, forKey: .category)
        role = try? container.decode(String.self, forKey: .role)
        owner = try? container.decode(String.self, forKey: .owner)
    }
}
