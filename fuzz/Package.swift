// swift-tools-version:6.1
import PackageDescription

// libFuzzer harnesses for the parsers that read outside input (fuzz/README.md). A package of its
// own, depending on the main one by path, so the normal build never sees the fuzzer flags:
//   cd fuzz && swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --build-path ../.build-fuzz
let package = Package(
    name: "credits-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "credits", path: ".."),
        // The versions the main package pins (its Package.swift), for the two harnesses that name them.
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "fuzz-cost-events",
            dependencies: ["FuzzDriver", .product(name: "Ingest", package: "credits")]),
        .executableTarget(
            name: "fuzz-orders",
            dependencies: ["FuzzDriver", .product(name: "Ingest", package: "credits")]),
        .executableTarget(
            name: "fuzz-graphql",
            dependencies: [
                "FuzzDriver",
                .product(name: "Service", package: "credits"),
                .product(name: "Ledger", package: "credits"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "fuzz-webhooks",
            dependencies: [
                "FuzzDriver",
                .product(name: "Service", package: "credits"),
                .product(name: "Ledger", package: "credits"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ]
)
