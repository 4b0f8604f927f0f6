import Foundation
import Ingest
import Ledger
import Testing

/// hledger-style error catalogue: every file in fixtures/errors/ is one bad input, and
/// `<file>.expected` holds the exit code and the exact message a person sees (file, line, field,
/// reason, what to do). Set `UPDATE_GOLDEN=1` to rewrite the goldens, then review the diff.
struct ErrorCatalogueTests {
    static let directory = Fixtures.path("fixtures/errors")

    static var cases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasSuffix(".expected") }.sorted()
    }

    /// Exit code and message of the first problem in a file, as the stage would report it.
    static func firstProblem(_ name: String) -> String {
        let path = directory + "/" + name
        let display = "fixtures/errors/" + name
        do {
            let rejection: Rejection?
            if name.hasPrefix("orders-") {
                let file = try RevolutOrderReader.read(path: path, displayName: display)
                rejection = file.outcomes.lazy.compactMap(\.rejection).first
            } else {
                let reader = try CostEventReader(path: path, displayName: display)
                rejection = try reader.readAll().lazy.compactMap(\.rejection).first
            }
            guard let rejection else { return "exit: 0\n" }
            return "exit: 3\n\(rejection.description)\n"
        } catch {
            return "exit: \(StageExit(error.failureClass).rawValue)\n\(error.description)\n"
        }
    }

    @Test("every bad input has a golden message naming file, line and field", arguments: cases)
    func catalogue(name: String) throws {
        let actual = Self.firstProblem(name)
        let goldenPath = Self.directory + "/" + name + ".expected"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: goldenPath, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: goldenPath, encoding: .utf8)
        #expect(actual == expected)
        #expect(!actual.hasPrefix("exit: 0"), "a catalogue entry must be refused")
    }

    @Test("the catalogue covers every parser rejection rule")
    func coverage() throws {
        var seen: Set<String> = []
        for name in Self.cases {
            let golden = try String(contentsOfFile: Self.directory + "/" + name + ".expected", encoding: .utf8)
            let firstLine = golden.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
            if let open = firstLine.lastIndex(of: "["), let close = firstLine[open...].firstIndex(of: "]") {
                seen.insert(String(firstLine[firstLine.index(after: open)..<close]))
            }
        }
        let laterRules: Set<RejectionRule> = [
            .unknownOrganisation, .unknownTeam, .unknownInvestigation, .unknownOperation,
            .investigationOfAnotherOrganisation, .noRateCardEntry, .eventIDConflict, .currencyMustMatchOrganisation,
            .unknownPackage, .orderNotTiedToOrganisation, .orderAmountMismatch,
            // Covered by generated inputs in LimitTests (too big to keep as fixtures).
            .lineTooLong, .attributesTooLarge, .fileTooLarge, .csvRecordTooLong, .decompressedTooLarge,
            .amountOutOfRange, .quantityOutOfRange, .quantityMalformed,
        ]
        let missing = RejectionRule.allCases.filter { !laterRules.contains($0) && !seen.contains($0.code) }
        #expect(missing.isEmpty, "no catalogue fixture for \(missing.map(\.code))")
    }
}
