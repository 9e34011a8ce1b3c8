// swift-tools-version:6.0
import PackageDescription

// The benchmark harness, kept out of the root package so CI's `swift build` never compiles it.
// The root package exports only the `baocuo` executable, so the domain is built here from its
// own sources (Sources/BaocuoDomain is a symlink to ../Sources/BaocuoDomain) with the same
// dependencies; exporting a BaocuoDomain library product from the root package would let this
// become a plain path dependency.
let package = Package(
    name: "BaocuoBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "baocuo-bench", targets: ["BaocuoBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "BaocuoDomain",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Counts calls to malloc and friends by interposing them (glibc has no malloc hooks any more).
        .target(name: "MallocCounter"),
        .executableTarget(name: "BaocuoBench", dependencies: ["BaocuoDomain", "MallocCounter"]),
    ]
)
