import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: one ledger has one digest, whichever store holds it. Text that escaping can get wrong (quotes,
/// backslashes, tabs, newlines, non-ASCII, control characters) goes through `db copy`'s COPY text format
/// and back through PostgreSQL's row source into `CanonicalDump` byte for byte; verify passes there. Text
/// PostgreSQL cannot store (a NUL byte) is not covered yet: GRDB reads text up to the NUL, as the digest does.
@Suite(.enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresDigestTests {
    let directory = TemporaryDirectory("pg-digest")

    func ledger(memos: [String]) throws -> LedgerDatabase {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try ledger.write { tx in
            for (index, memo) in memos.enumerated() {
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: "grant-\(index)", organisationID: "met", source: .adjustment, credits: Credits(10),
                    effectiveAt: instant("2026-11-01T00:00:00Z"), references: TransferReferences(memo: memo)))
            }
            _ = try tx.spend(SpendRequest(
                idempotencyKey: "spend", organisationID: "met", credits: Credits(25), effectiveAt: instant("2026-11-02T00:00:00Z"),
                priority: .p3, policy: .withinSpendable, references: TransferReferences(team: "t\"1", memo: "ünïcode")))
        }
        return ledger
    }

    @Test func escapingSensitiveText_hasOneDigestOnBothStores() async throws {
        let ledger = try ledger(memos: CanonicalDumpTests.memos.filter { !$0.contains("\u{0}") })
        let sqliteDigest = try ledger.readBlocking { try $0.digest() }
        try await PostgresTestServer.withDatabase { _, location in
            let target = try await PostgresLedger.create(at: location)
            do {
                let report = try await LedgerCopy.copy(from: ledger, to: target, batchRows: 3)
                #expect(report.sourceDigest == sqliteDigest)
                #expect(report.targetDigest == sqliteDigest)
                let verified = try await target.verify()
                #expect(verified.passed, "\(verified.checks.filter { !$0.passed })")
                #expect(verified.digest == sqliteDigest)
                #expect(verified.checks.map(\.name) == (try ledger.readBlocking { try $0.verify() }).checks.map(\.name))
                // Memos come back as they went in.
                let memos = try await PostgresTestServer.strings(
                    "SELECT memo FROM transfers WHERE memo IS NOT NULL ORDER BY id", at: location)
                #expect(memos.contains("tab\there") && memos.contains("new\nline") && memos.contains("back\\slash"))
            } catch {
                await target.close()
                throw error
            }
            await target.close()
        }
    }
}
