import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: every transfer records the organisation's balance right after it, in posting order, so history
/// shows the balance before and after each entry without summing what came before; the value survives
/// deferred balances, savepoints that roll back and the group commit; `verify` recomputes it; the
/// migration fills it in for transfers posted before it existed.
@Suite struct BalanceAfterTests: FundedLedger {
    let directory = TemporaryDirectory("balance-after")

    /// Each entry's before is the previous entry's after, the first starts at zero, the last is the balance.
    func expectChained(_ ledger: LedgerDatabase, available: String) throws {
        let history = try ledger.read { try $0.history(of: "met") }
        var previous = Credits.zero
        for transfer in history {
            #expect(transfer.balanceBefore == previous, "transfer \(transfer.id)")
            #expect(transfer.balanceAfter == (try previous.adding(transfer.signedAmount(for: "met"))))
            previous = transfer.balanceAfter
        }
        #expect(previous == credits(available))
        try expectVerified(ledger, available: available)
    }

    @Test func everyPostingPath_recordsTheBalanceAfterIt() throws {
        let ledger = try funded("100", overdraft: Credits(50))
        // Several spends in one transaction: balances are deferred, the running balance is not re-read.
        _ = try ledger.write { tx in
            for index in 1...3 { _ = try tx.spend(spend("s\(index)", "10")) }
        }
        // A spend into overdraft, then a grant that settles it.
        _ = try ledger.write { try $0.spend(spend("s4", "95", policy: .allowOverdraft(limit: Credits(50)))) }
        _ = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "grant-2", organisationID: "met", source: .allocation, credits: Credits(40),
                effectiveAt: instant("2026-11-03T00:00:00Z"), expiresAt: instant("2026-11-30T00:00:00Z")))
        }
        // A dry run that posts and rolls back leaves nothing behind, not even a running balance.
        _ = try ledger.write { tx in
            try tx.dryRun { dry in _ = try dry.spend(spend("dry", "5")) }
            return try tx.spend(spend("s5", "1"))
        }
        // A group commit whose middle unit fails: the others' balances chain as if it never ran.
        let outcomes = try ledger.writeEach(["s6", "too-much", "s7"]) { tx, key in
            try tx.spend(spend(key, key == "too-much" ? "1000" : "2"))
        }
        #expect(outcomes.map { (try? $0.get()) != nil } == [true, false, true])
        let grantID = try #require(try ledger.read { try $0.transfer(idempotencyKey: "grant-2") }?.grantID)
        _ = try ledger.write { try $0.expire(grantID: grantID, at: instant("2026-11-30T00:00:00Z"), idempotencyKey: "exp") }
        try expectChained(ledger, available: "0")
    }

    @Test func verify_findsATamperedBalanceAfter() throws {
        let ledger = try funded("100")
        _ = try ledger.write { try $0.spend(spend("s1", "10")) }
        try ledger.write { tx in
            try tx.db.execute(sql: """
                DROP TRIGGER transfers_are_append_only_update;
                UPDATE transfers SET balance_after = balance_after + 1 WHERE idempotency_key = 's1';
                """)
        }
        let report = try ledger.read { try $0.verify() }
        let check = try #require(report.checks.first { $0.name == "balancesAfterDerivable" })
        #expect(!check.passed)
        #expect(check.detail.contains("records balance after 90000001"), "\(check.detail)")
    }

    @Test func migration_fillsInTheBalancesOfEarlierTransfers() throws {
        let ledger = try funded("100")
        _ = try ledger.write { tx in
            for index in 1...4 { _ = try tx.spend(spend("s\(index)", "7")) }
        }
        let expected = try ledger.read { try $0.history(of: "met").map(\.balanceAfter) }
        let digest = try ledger.read { try $0.digest() }
        // Back to the previous version's schema: no column, no trigger, migration not applied.
        let previous = try DatabaseQueue(path: ledger.path)
        try previous.write { db in
            try db.execute(sql: """
                DROP TRIGGER transfers_record_balance_after;
                ALTER TABLE transfers DROP COLUMN balance_after;
                DELETE FROM grdb_migrations WHERE identifier = 'v4-balance-after';
                """)
        }
        try previous.close()

        let migrated = try LedgerDatabase.create(at: ledger.path)
        #expect(try migrated.read { try $0.history(of: "met").map(\.balanceAfter) } == expected)
        #expect(try migrated.read { try $0.digest() } == digest)
        _ = try migrated.write { try $0.spend(spend("s5", "1")) }
        try expectChained(migrated, available: "71")
    }
}
