// swift-tools-version:6.1
import PackageDescription

// libFuzzer harnesses for the parsers that read outside input (fuzz/README.md). A package of its
// own, depending on the main one by path, so the normal build never sees the fuzzer flags:
//   cd fuzz && swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --build-path ../.build-fuzz
let package = Package(
    name: "credits-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "credits", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "fuzz-cost-events",
            dependencies: ["FuzzDriver", .product(name: "Ingest", package: "credits")]),
        .executableTarget(
            name: "fuzz-orders",
            dependencies: ["FuzzDriver", .product(name: "Ingest", package: "credits")]),
    ]
)
