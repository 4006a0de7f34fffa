// swift-tools-version:6.2
import PackageDescription

/// The targets on the forwarding path: in release builds, no dynamic exclusivity checks (swift_beginAccess
/// and its thread-local access set were ~5% of the data plane's CPU samples). Debug builds, which every test
/// runs, keep them, so an overlapping access still fails there.
let dataPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "spillway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "spillway", targets: ["spillway"]),
        .library(name: "PostgresWire", targets: ["PostgresWire"]),
        .library(name: "SpillwayCore", targets: ["SpillwayCore"]),
        .library(name: "SpillwayEngine", targets: ["SpillwayEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Tests only: a real PostgreSQL client and a way to run psql/pgbench/initdb.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        .target(
            name: "PostgresWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: dataPathSettings
        ),
        .target(
            name: "SpillwayCore",
            dependencies: ["PostgresWire"],
            swiftSettings: dataPathSettings
        ),
        .target(name: "CSpillwayEngine"),
        .target(
            name: "SpillwayEngine",
            dependencies: [
                "CSpillwayEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: dataPathSettings
        ),
        .target(
            name: "SpillwayServer",
            dependencies: [
                "PostgresWire",
                "SpillwayCore",
                "SpillwayEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: dataPathSettings
        ),
        .target(
            name: "SpillwayTools",
            dependencies: [
                "PostgresWire", "SpillwayCore", "SpillwayServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The floor bench/compare measures poolers against: a bare byte relay on the engine.
        .executableTarget(
            name: "spillway-relay",
            dependencies: ["SpillwayEngine", .product(name: "NIOCore", package: "swift-nio")],
            path: "bench/relay"
        ),
        .executableTarget(
            name: "spillway",
            dependencies: [
                "SpillwayServer",
                "SpillwayTools",
                "SpillwayCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PostgresWireTests",
            dependencies: ["PostgresWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SpillwayCoreTests",
            dependencies: ["SpillwayCore", "PostgresWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SpillwayEngineTests",
            dependencies: ["SpillwayEngine", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SpillwayServerTests",
            dependencies: [
                "SpillwayServer", "SpillwayCore", "PostgresWire", "SpillwayEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SpillwayToolsTests",
            dependencies: [
                "SpillwayTools", "SpillwayCore", "PostgresWire", .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "SpillwayServer", "SpillwayCore", "PostgresWire", "SpillwayTools",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: dataPathSettings
        ),
    ]
)
