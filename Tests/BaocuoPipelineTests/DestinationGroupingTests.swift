import Testing

@testable import BaocuoPipeline

/// Outputs are produced grouped by destination; the grouping must keep each destination's outputs
/// in routing order, or per-partition (and per-key) order would change.
struct DestinationGroupingTests {
    private func batch(_ destinations: [Int]) -> OutputBatch {
        var outputs = OutputBatch()
        for (index, destination) in destinations.enumerated() {
            outputs.append(topic: "t\(destination)", destination: destination, key: nil) { $0.append(UInt8(index & 0xFF)) }
        }
        return outputs
    }

    @Test func groupsByDestinationKeepingRoutingOrder() {
        var grouping = DestinationGrouping()
        grouping.group(batch([3, 0, 3, 1, 0, 3]).records)
        #expect(grouping.order == [1, 4, 3, 0, 2, 5])
        grouping.group(batch([]).records)
        #expect(grouping.order.isEmpty, "scratch from the previous batch is not reused as output")
    }

    @Test func randomBatchesComeOutAsStablePermutations() {
        var random = TestRandom(seed: 7)
        var grouping = DestinationGrouping()
        for _ in 0..<200 {
            let destinations = (0..<Int(random.next() % 300)).map { _ in Int(random.next() % 40) }
            let records = batch(destinations).records
            grouping.group(records)
            #expect(grouping.order.sorted() == Array(destinations.indices))
            let expected = destinations.indices.sorted { (destinations[$0], $0) < (destinations[$1], $1) }
            #expect(grouping.order == expected)
        }
    }
}

/// Outputs are spread over the producers by topic name: the inboxes of every region must spread
/// over all of them, or one producer's 5 in-flight slots per broker would carry most partitions.
struct ProducerShardingTests {
    @Test func theInboxesSpreadOverEveryProducer() {
        let inboxes = TestConfiguration.shared.regions.regions.map { "yb.agency.\($0.code).inbox" }
        #expect(inboxes.count > 300)
        for producers in 1...8 {
            var perProducer = [Int](repeating: 0, count: producers)
            for topic in inboxes { perProducer[OutputDelivery.producerIndex(topic: topic, producers: producers)] += 1 }
            // Within 25 % of a fair share.
            let fair = Double(inboxes.count) / Double(producers)
            #expect(perProducer.allSatisfy { abs(Double($0) - fair) <= fair / 4 }, "\(producers) producers: \(perProducer)")
        }
    }
}
