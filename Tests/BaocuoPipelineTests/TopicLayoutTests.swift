import BaocuoDomain
import BaocuoPipeline
import Foundation
import Testing

/// The one topic layout and the ACLs generated from it (`baocuo topics list`, `baocuo topics acls`),
/// and the Deploy files made from them.
@Suite struct TopicLayoutTests {
    let names = TopicNames()
    let regions = TestConfiguration.shared.regions

    /// Principal → the topics it may Write, read back from the kafka-acls argument lists.
    static func writes(_ lines: [String]) -> [String: [String]] {
        var writes: [String: [String]] = [:]
        for line in lines {
            let words = line.split(separator: " ").map(String.init)
            func values(of flag: String) -> [String] {
                words.indices.filter { words[$0] == flag && $0 + 1 < words.count }.map { words[$0 + 1] }
            }
            guard values(of: "--operation").contains("Write") else { continue }
            for principal in values(of: "--allow-principal") {
                writes[principal, default: []] += values(of: "--topic")
            }
        }
        return writes
    }

    @Test func eachAgencyPrincipalMayWriteExactlyOneResolutionsTopicItsOwn() {
        let acls = AccessControlList(names: names, regions: regions).lines
        let writes = Self.writes(acls)
        let agencies = writes.filter { $0.key.hasPrefix("User:agency-") }
        #expect(agencies.count == regions.regions.count)
        for region in regions.regions {
            #expect(agencies["User:agency-\(region.code)"] == [names.resolutions(region: region.code)], "\(region.code)")
        }
        // Nobody but the worker's prefixed grant may write the deprecated shared topic.
        #expect(!writes.values.contains { $0.contains(names.sharedResolutions) })
        // Every resolutions topic written is in the layout, and names its writer.
        let layout = Set(TopicLayout(names: names, regions: regions).topics.map(\.name))
        for (principal, topics) in agencies {
            for topic in topics {
                #expect(layout.contains(topic))
                #expect(names.resolutionsRegion(of: topic).map { "User:agency-" + $0 } == principal)
            }
        }
    }

    @Test func theLayoutHasOneResolutionsTopicPerRegionStampedByTheBroker() {
        let topics = TopicLayout(names: names, regions: regions).topics
        let resolutions = topics.filter { names.resolutionsRegion(of: $0.name) != nil }
        #expect(Set(resolutions.compactMap { names.resolutionsRegion(of: $0.name) }) == Set(regions.regions.map(\.code)))
        #expect(resolutions.allSatisfy { $0.configs.contains("message.timestamp.type=LogAppendTime") })
        #expect(Set(topics.map(\.name)).count == topics.count, "no topic twice")
    }

    /// Deploy/topics.txt and Deploy/acls.txt are what the layout gives (Deploy/generate-topics.sh).
    @Test func deployFilesAreGeneratedFromTheLayout() throws {
        let deploy = TestPaths.checkout.appendingPathComponent("Deploy")
        func lines(_ name: String) throws -> [String] {
            try String(contentsOf: deploy.appendingPathComponent(name), encoding: .utf8)
                .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        }
        #expect(
            try lines("topics.txt") == TopicLayout(names: names, regions: regions).topicLines,
            "Deploy/topics.txt is stale: run Deploy/generate-topics.sh")
        #expect(
            try lines("acls.txt") == AccessControlList(names: names, regions: regions).lines,
            "Deploy/acls.txt is stale: run Deploy/generate-topics.sh")
    }
}
