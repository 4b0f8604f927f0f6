import Foundation
import Ingest
import Ledger
import Reconcile
import Service
import Testing
import TestSupport

/// Goal: docs/CODES.md lists exactly the codes the code can produce, section by section, so a new
/// code cannot ship undocumented and a documented code cannot silently disappear.
@Suite struct CodeCatalogueTests {
    /// The codes in the first column of the table under the heading that starts with `heading`.
    static func documented(_ heading: String) throws -> [String] {
        let text = try String(contentsOfFile: "\(repositoryRoot)/docs/CODES.md", encoding: .utf8)
        guard let start = text.range(of: "\n## \(heading)") else {
            Issue.record("docs/CODES.md has no section \(heading)")
            return []
        }
        let section = text[start.upperBound...].prefix { _ in true }
        let body = section.range(of: "\n## ").map { section[..<$0.lowerBound] } ?? section
        return body.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 3)..<end])
        }
    }

    static func expectSame(_ heading: String, _ produced: [String], retired: Set<String> = []) throws {
        let documented = try documented(heading)
        #expect(Set(documented).count == documented.count, "\(heading): a code is listed twice")
        let onlyInDoc = Set(documented).subtracting(produced).subtracting(retired).sorted()
        let onlyInCode = Set(produced).subtracting(documented).sorted()
        #expect(onlyInDoc.isEmpty && onlyInCode.isEmpty,
                "\(heading): only in the doc \(onlyInDoc), only in the code \(onlyInCode)")
    }

    @Test func exitCodes() throws {
        try Self.expectSame("Exit codes", StageExit.allCases.map { String($0.rawValue) })
    }

    @Test func ingestRejections() throws {
        try Self.expectSame("Ingest rejections", RejectionRule.allCases.map(\.code))
        let text = try String(contentsOfFile: "\(repositoryRoot)/docs/CODES.md", encoding: .utf8)
        for rule in RejectionRule.retired {
            #expect(text.contains("| `\(rule.code)` | retired |"), "\(rule.code) must be listed as retired")
        }
    }

    @Test func reconcileFindings() throws {
        try Self.expectSame("Reconcile findings", FindingCode.allCases.map(\.rawValue))
    }

    @Test func postingRefusals() throws {
        try Self.expectSame("Posting refusals", PostingRejection.Code.allCases.map(\.rawValue))
        try Self.expectSame("Administrator posting refusals", AdminPostingRejection.Code.allCases.map(\.rawValue))
        try Self.expectSame("Grant control refusals", GrantControlRejection.Code.allCases.map(\.rawValue))
    }

    /// GraphQL's `UserErrorCode` is the union of the three refusal tables, nothing more.
    @Test func mutationRefusals() throws {
        try Self.expectSame("GraphQL mutation refusals", MutationRefusal.allCases.map(\.rawValue))
        let tables = try [
            "Posting refusals", "Administrator posting refusals", "Grant control refusals", "GraphQL mutation refusals",
        ]
            .flatMap(Self.documented)
        #expect(Set(UserErrorCode.allCases.map(\.rawValue)) == Set(tables))
        #expect(UserErrorCode.allCases.count == tables.count, "a code is in two tables")
    }

    @Test func spendBlocks() throws {
        try Self.expectSame("Spend blocks", SpendBlock.allCases.map(\.rawValue), retired: ["zero_balance"])
    }

    @Test func holdRefusals() throws {
        try Self.expectSame("Hold refusals", HoldRejection.Code.allCases.map(\.rawValue))
    }

    /// Every problem type is documented, and each spend block has its own.
    @Test func problemTypes() throws {
        try Self.expectSame(
            "HTTP problems", ProblemType.allCases.map(\.rawValue), retired: ["insufficient-credits"])
        #expect(Set(SpendBlock.allCases.map { ProblemType($0) }).count == SpendBlock.allCases.count)
    }
}
