import Crypto
import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: the ledger digest is the one every existing ledger was given. `CanonicalDump` writes the
/// bytes from SQLite directly for speed; the definition it must match is kept here as it was first
/// written (each column's GRDB `DatabaseValue.description`, tab-separated, NULL as `\N`), and both
/// run over a ledger whose memos hold what escaping can get wrong.
@Suite struct CanonicalDumpTests {
    let directory = TemporaryDirectory("canonical-dump")

    static let memos = [
        "plain", "with \"quotes\"", "back\\slash", "tab\there", "new\nline", "carriage\rreturn", "é accented",
        "emoji 🪙", "nul\u{0}byte", "bell\u{7}", "del\u{7F}", "", " leading and trailing ",
    ]

    @Test func digest_isTheOriginalDefinition() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try ledger.write { tx in
            for (index, memo) in Self.memos.enumerated() {
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: "grant-\(index)", organisationID: "met", source: .adjustment, credits: Credits(10),
                    effectiveAt: instant("2026-11-01T00:00:00Z"), references: TransferReferences(memo: memo)))
            }
            _ = try tx.spend(SpendRequest(
                idempotencyKey: "spend", organisationID: "met", credits: Credits(25), effectiveAt: instant("2026-11-02T00:00:00Z"),
                priority: .p3, policy: .withinSpendable, references: TransferReferences(team: "t\"1", memo: "ünïcode")))
        }
        let digest = try ledger.read { try $0.digest() }
        let original = try ledger.read { reader in try Self.originalDigest(try reader.db) }
        #expect(digest == original)
        #expect(try ledger.read { try $0.verify().digest } == original)
    }

    /// The digest as first defined, before `CanonicalDump`.
    static func originalDigest(_ db: Database) throws -> String {
        var hasher = SHA256()
        func feed(_ sql: String) throws {
            let cursor = try Row.fetchCursor(db, sql: sql)
            while let row = try cursor.next() {
                var line = ""
                for (index, value) in row.databaseValues.enumerated() {
                    if index > 0 { line += "\t" }
                    line += value.isNull ? "\\N" : "\(value)"
                }
                line += "\n"
                hasher.update(data: Data(line.utf8))
            }
        }
        try feed("SELECT id, organisation_id, kind, debits_posted, credits_posted FROM accounts ORDER BY id")
        try feed("""
            SELECT id, idempotency_key, content_hash, kind, debit_account, credit_account, amount, organisation_id,
                   money_minor, currency, effective_at, cost_event_id, revolut_order_id, plan_period, team,
                   investigation, operation, memo
            FROM transfers ORDER BY id
            """)
        try feed("SELECT * FROM grants ORDER BY id")
        try feed("SELECT * FROM grant_draws ORDER BY id")
        return ContentHash.hex(hasher.finalize())
    }
}
