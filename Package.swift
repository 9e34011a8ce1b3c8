// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Baocuo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "baocuo", targets: ["BaocuoCLI"]),
        .executable(name: "baocuo-bench", targets: ["BaocuoBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // librdkafka (Debian librdkafka-dev), including the mock cluster API.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Pure domain: schemas, validation, regions, taxonomy, classifier, calendar. No Kafka, no network.
        .target(
            name: "BaocuoDomain",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The only code that touches librdkafka pointers: async, typed Kafka clients and the mock cluster.
        .target(
            name: "BaocuoKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Router, weekly batch scheduler, replay: domain + Kafka.
        .target(
            name: "BaocuoPipeline",
            dependencies: [
                "BaocuoDomain",
                "BaocuoKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // /metrics and /health over a small NIO HTTP server.
        .target(
            name: "BaocuoObservability",
            dependencies: [
                "BaocuoDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "BaocuoCLI",
            dependencies: [
                "BaocuoDomain",
                "BaocuoKafka",
                "BaocuoPipeline",
                "BaocuoObservability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Per-stage reports/s and allocations per report of the domain's hot paths (BENCHMARKS.md
        // "Per stage and instructions per line").
        // Counts calls to malloc and friends by interposing them (glibc has no malloc hooks any more).
        .target(name: "MallocCounter", path: "Benchmarks/MallocCounter"),
        .executableTarget(
            name: "BaocuoBench",
            dependencies: [
                "BaocuoDomain", "BaocuoPipeline", "BaocuoKafka", "MallocCounter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Benchmarks/BaocuoBench"),
        .testTarget(name: "BaocuoDomainTests", dependencies: ["BaocuoDomain"], exclude: ["Fixtures"]),
        .testTarget(name: "BaocuoKafkaTests", dependencies: ["BaocuoKafka", "CRdKafka"]),
        .testTarget(
            name: "BaocuoPipelineTests",
            dependencies: ["BaocuoPipeline", "BaocuoDomain", "BaocuoKafka", "BaocuoObservability"]
        ),
    ]
)
