// swift-tools-version:6.1
import PackageDescription

// Credits: a double-entry credits ledger with staged batch executables and a live service.
//
// Layering (each stage library stands on Ledger; only Ledger touches SQL):
//   Ledger  <- Ingest, Reconcile, Reports, Service  <- credits (the one executable)
//
// Dependencies are pinned with `exact:` because Package.resolved is not committed
// (see ../shared/STACK.md). Hummingbird's default traits are off: ConfigurationSupport would
// pull swift-configuration into every clean build for nothing we use.

let package = Package(
    name: "credits",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "credits", targets: ["credits"]),
        // For fuzz/ (a package of its own that depends on this one by path): the parsers it feeds, and
        // the ledger behind the GraphQL schema it fuzzes.
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Service", targets: ["Service"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        // Already in the graph through Hummingbird; named because the service uses them directly
        // (event-loop task executor, service group).
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/GraphQLSwift/Graphiti", exact: "3.1.0"),
        .package(url: "https://github.com/GraphQLSwift/GraphQL", exact: "4.3.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        // The PostgreSQL store (issue 17): a client without an ORM. Adds swift-nio-ssl and _CryptoExtras to a
        // clean build (README, PostgreSQL, has the measured cost).
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // System libraries (Debian packages, installed by .ci/run and scripts/setup).
        .systemLibrary(
            name: "CXLSXWriter",
            path: "Sources/CXLSXWriter",
            pkgConfig: "xlsxwriter",
            providers: [.apt(["libxlsxwriter-dev"])]
        ),
        .systemLibrary(
            name: "CInflate",
            path: "Sources/CInflate",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // The ledger: exact values, accounts, transfers, grants, storage. The only module with SQL.
        .target(
            name: "Ledger",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for the hot paths that bind parameters directly (posting, staging).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                // PostgreSQL (Storage/Postgres): the same schema, verify and digest, and `db copy`.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The git commit the binary was built from (scripts/stamp-commit writes it; see build_info.c).
        .target(name: "CBuildInfo", path: "Sources/CBuildInfo"),
        .target(name: "Ingest", dependencies: ["Ledger", "CInflate"]),
        .target(
            name: "Reconcile",
            dependencies: [
                "Ledger",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "Reports", dependencies: ["Ledger", "CXLSXWriter"]),
        .target(
            name: "Service",
            dependencies: [
                "Ledger",
                "Ingest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Graphiti", package: "Graphiti"),
                .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "credits",
            dependencies: [
                "Ledger", "Ingest", "Reconcile", "Reports", "Service", "CBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The detail-sheet benchmark (benchmarks/README.md, "Report (issue 5)"): our XLSX writing path
        // fed by synthetic rows, timed against benchmarks/report/raw_xlsxwriter.c.
        .executableTarget(
            name: "report-detail-bench",
            dependencies: ["Reports", "Ledger"],
            path: "benchmarks/report/DetailSheetBench"
        ),

        // Shared test support: temporary databases, running the built binary, reading XLSX back.
        .target(
            name: "TestSupport",
            dependencies: [
                "Ledger",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "TestSupport"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "TestSupport"]),
        .testTarget(name: "ReconcileTests", dependencies: ["Reconcile", "Ingest", "Reports", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "TestSupport"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "TestSupport"]),
        .testTarget(
            name: "CreditsEndToEndTests",
            dependencies: [
                "credits", "TestSupport",
                // To sign Revolut webhook deliveries sent to a running `credits serve`.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // One test per shared rule that runs the live path and the batch path on the same input and
        // expects the same answer (issue 14: one rule book).
        .testTarget(name: "RuleBookTests", dependencies: ["Ingest", "Reconcile", "Service", "TestSupport"]),
    ]
)
