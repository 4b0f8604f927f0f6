import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal (issue 15, D6): `verify` checks that each outflow's recorded money equals what its draws
/// cost when it was posted, leaving out the draws that settled its overdraft later, so a settled
/// ledger passes and a tampered draw or money fails (triggers dropped, as an attacker with SQL
/// access would).
@Suite struct OutflowMoneyVerifyTests {
    let directory = TemporaryDirectory("outflow-money")

    /// `met` (overdraft 100): a covered spend of 30 from a 100-credit grant bought for 45.00, a spend
    /// of 80 running 10 into overdraft, then a grant of 100 for 10.00 that settles those 10.
    func settledLedger() throws -> LedgerDatabase {
        let ledger = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("met", overdraft: credits("100"))])
        func spend(_ key: String, _ amount: String, at: String) -> SpendRequest {
            SpendRequest(
                idempotencyKey: key, organisationID: "met", credits: credits(amount), effectiveAt: instant(at),
                priority: .p3, policy: .allowOverdraft(limit: credits("100")),
                references: TransferReferences(costEventID: key))
        }
        try ledger.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "pack", organisationID: "met", source: .topUp, credits: credits("100"),
                price: Money(minorUnits: 4500, currency: .gbp), effectiveAt: instant("2026-11-01T00:00:00Z")))
            _ = try tx.spend(spend("covered", "30", at: "2026-11-02T00:00:00Z"))
            _ = try tx.spend(spend("into-overdraft", "80", at: "2026-11-03T00:00:00Z"))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "settle", organisationID: "met", source: .topUp, credits: credits("100"),
                price: Money(minorUnits: 1000, currency: .gbp), effectiveAt: instant("2026-11-04T00:00:00Z")))
        }
        return ledger
    }

    func failedChecks(_ ledger: LedgerDatabase) throws -> [String] {
        try ledger.read { try $0.verify() }.checks.filter { !$0.passed }.map(\.name)
    }

    @Test func aSettledOverdraft_passes() throws {
        let ledger = try settledLedger()
        #expect(try failedChecks(ledger) == [])
        // The settled deduction's draws cost more than its recorded money: the settlement's 1.00.
        let costs = try ledger.read { reader in
            try Row.fetchAll(reader.db, sql: """
                SELECT t.money_minor, (SELECT SUM(cost_minor) FROM grant_draws d WHERE d.transfer_id = t.id)
                FROM transfers t WHERE t.idempotency_key = 'into-overdraft'
                """).map { [$0[0] as Int64, $0[1] as Int64] }
        }
        #expect(costs == [[3150, 3250]])
    }

    /// The checks that fail after `sql` runs on the settled ledger with the append-only triggers dropped.
    func failedChecks(afterTampering sql: String) throws -> [String] {
        let ledger = try settledLedger()
        try ledger.write { tx in
            try tx.db.execute(sql: """
                DROP TRIGGER transfers_are_append_only_update;
                DROP TRIGGER grant_draws_are_append_only_update;
                \(sql)
                """)
        }
        return try failedChecks(ledger)
    }

    @Test func aTamperedDeductionMoney_fails() throws {
        let failed = try failedChecks(afterTampering: """
            UPDATE transfers SET money_minor = money_minor + 1 WHERE idempotency_key = 'covered'
            """)
        #expect(failed.contains("outflowMoneyEqualsDrawCost"))
    }

    @Test func aTamperedDrawCost_fails() throws {
        let failed = try failedChecks(afterTampering: """
            UPDATE grant_draws SET cost_minor = cost_minor + 7
            WHERE transfer_id = (SELECT id FROM transfers WHERE idempotency_key = 'covered')
            """)
        #expect(failed.contains("outflowMoneyEqualsDrawCost"))
    }

    @Test func aCostOnAnUncoveredDraw_fails() throws {
        let failed = try failedChecks(afterTampering: """
            UPDATE grant_draws SET cost_minor = 5 WHERE grant_id IS NULL AND credits > 0
            """)
        #expect(failed.contains("outflowMoneyEqualsDrawCost"))
    }
}
