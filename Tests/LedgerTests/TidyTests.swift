import Foundation
import Testing
import TestSupport

/// Goal: keep banned constructs out of the ledger, as TigerBeetle's tidy.zig does.
/// Binary floating point must never touch an amount; the few files that convert clock time or
/// timeouts through Foundation's `Double`-based APIs are listed with the reason.
@Suite struct TidyTests {
    static let floatAllowed: [String: String] = [
        "Values/Instant.swift": "Foundation's Date is Double seconds; converted once to integer milliseconds",
        "Storage/LedgerDatabase.swift": "GRDB's busy timeout takes seconds as Double",
    ]

    /// Whole words only, so `ExactDecimal` is not mistaken for Foundation's `Decimal`.
    static var banned: [(name: String, pattern: Regex<Substring>)] {
        [("Double", /\bDouble\b/), ("Float", /\bFloat(?:32|64)?\b/), ("Decimal", /\bDecimal\b/),
         ("NSDecimalNumber", /\bNSDecimalNumber\b/)]
    }

    @Test func ledger_hasNoBinaryFloatingPointOnAmounts() throws {
        let root = "\(repositoryRoot)/Sources/Ledger"
        let files = try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty)
        for file in files where Self.floatAllowed[file] == nil {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            for banned in Self.banned where text.contains(banned.pattern) {
                Issue.record(Comment(rawValue: "\(file) uses \(banned.name): amounts must stay exact integers"))
            }
        }
    }

    @Test func canary_theScanFindsABannedWord() {
        // If this fails, the tidy scan above could pass vacuously.
        #expect(Self.banned.contains { "let x: Double = 1".contains($0.pattern) })
        #expect(!Self.banned.contains { "ExactDecimal(significand: 1, scale: 0)".contains($0.pattern) })
    }
}
