// swift-tools-version:6.2
// Micro-benchmarks of Spillway's hot paths (ordo-one/benchmark). A separate package so that the main
// package's build and tests never pull in the benchmark tooling. Run from this directory:
//     swift package --disable-sandbox benchmark
import PackageDescription

let benchmarkDependencies: [Target.Dependency] = [
    .product(name: "Benchmark", package: "benchmark"),
    .product(name: "PostgresWire", package: "spillway"),
    .product(name: "SpillwayCore", package: "spillway"),
]

let package = Package(
    name: "SpillwayBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "spillway", path: ".."),
        // MallocInterposer alone (malloc metrics). The default traits add RuntimeInterposer, which needs
        // ordo-one/swift-runtime-interposer (not available here); without it there are no ARC metrics on Linux.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "FrameDecoding",
            dependencies: benchmarkDependencies + [.product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/FrameDecoding",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "GlobalCounters",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/GlobalCounters",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "LoopHandoff",
            dependencies: benchmarkDependencies + [.product(name: "SpillwayEngine", package: "spillway")],
            path: "Benchmarks/LoopHandoff",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PoolAcquireRelease",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/PoolAcquireRelease",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SessionBookkeeping",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/SessionBookkeeping",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
