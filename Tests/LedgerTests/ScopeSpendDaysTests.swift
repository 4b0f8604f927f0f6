import Foundation
import GRDB
import Testing
import TestSupport

@testable import Ledger

/// Usage per scope and day (`scope_spend_days`) in one long transaction, as apply posts a night
/// (issue 13, memory). Goal: past `PostingState.scopeDaysHeldMax` scope days waiting, the rows are
/// written early instead of held to the end, and nothing changes for what a budget sees: every row
/// sums to what was charged, and a budget checked after an early write counts what was written and
/// what still waits exactly once (it refuses at the very spend that passes it).
@Suite struct ScopeSpendDaysTests {
    let directory = TemporaryDirectory("scope-spend-days")

    @Test func aLongTransaction_writesScopeDaysEarly_andTheBudgetStillCountsEachSpendOnce() throws {
        let spends = PostingState.scopeDaysHeldMax + 100
        var organisation = SampleWorld.organisation("met")
        // One budget over every day the spends fall on: only the organisation's scope is measured.
        organisation.budgets = [
            Budget(scope: .organisation, scopeID: "met", limit: Credits(microcredits: Int64(spends + 100) * 1_000_000),
                   period: .range(start: LocalDate.parse("2026-01-01")!, end: LocalDate.parse("2075-12-31")!), mode: .hard),
        ]
        let ledger = try SampleWorld.ledger(in: directory, organisations: [organisation])
        let refusedAt: Int? = try ledger.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "grant", organisationID: "met", source: .topUp, credits: credits("1000000"),
                effectiveAt: instant("2026-01-01T00:00:00Z")))
            // One local day each: one scope day per spend.
            for index in 0..<spends { _ = try tx.spend(Self.spend(index, day: index)) }
            let written = try Int.fetchOne(tx.db, sql: "SELECT COUNT(*) FROM scope_spend_days") ?? 0
            #expect(written >= PostingState.scopeDaysHeldMax, "written before the transaction ends: \(written)")
            for extra in 0..<101 {
                do {
                    _ = try tx.spend(Self.spend(spends + extra, day: 0))
                } catch PostingRejection.budgetExceeded {
                    return extra
                }
            }
            return nil
        }
        #expect(refusedAt == 100, "the limit allows exactly 100 more after the first \(spends)")
        let rows = try ledger.read { reader in
            try Row.fetchAll(reader.db, sql: "SELECT scope, COUNT(*), SUM(credits) FROM scope_spend_days GROUP BY scope ORDER BY scope")
                .map { [$0[0] as String, String($0[1] as Int), String(($0[2] as Int64) / 1_000_000)] }
        }
        #expect(rows == [["organisation", String(spends), String(spends + 100)]])
    }

    static func spend(_ index: Int, day: Int) -> SpendRequest {
        SpendRequest(
            idempotencyKey: "use-\(index)", organisationID: "met", credits: credits("1"),
            effectiveAt: instant("2026-01-01T10:00:00Z").adding(milliseconds: Int64(day) * 86_400_000), priority: .p3,
            policy: .allowOverdraft(limit: .zero),
            references: TransferReferences(team: "analysis", investigation: "inv-\(index % 7)", operation: "ocr"))
    }
}
