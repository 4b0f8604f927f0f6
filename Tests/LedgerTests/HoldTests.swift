import Foundation
import GRDB
import Testing
import TestSupport

@testable import Ledger

/// Holds in the ledger itself: the schema keeps a hold's states honest whatever the code does, live spends
/// leave held credits alone while batch usage that already happened does not wait for them, and the
/// settle tolerance is exact to the micro-credit.
@Suite struct HoldTests {
    let directory = TemporaryDirectory("holds")
    let clock = TestClock("2026-11-20T10:00:00Z")

    func ledger() throws -> LedgerDatabase {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")], clock: clock)
        _ = try ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "fund", organisationID: "met", source: .topUp, credits: credits("100"),
                effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        return ledger
    }

    func request(_ key: String, _ amount: String) -> HoldRequest {
        HoldRequest(idempotencyKey: key, organisationID: "met", team: "analysis", operation: "ocr", credits: credits(amount))
    }

    func usage(_ key: String, _ amount: String, policy: SpendPolicy) -> SpendRequest {
        SpendRequest(
            idempotencyKey: key, organisationID: "met", credits: credits(amount), effectiveAt: clock.now,
            priority: .unprioritised, policy: policy)
    }

    @Test func schema_letsAHoldCloseOnce_andNeverDeletesOne() throws {
        let ledger = try ledger()
        let hold = try ledger.write { try $0.createHold(request("job", "10")).hold }
        _ = try ledger.write { try $0.releaseHold(id: hold.id, organisationID: "met") }
        #expect(throws: (any Error).self) {
            try ledger.write { tx in try tx.db.execute(sql: "UPDATE holds SET state = 'open', closed_at = NULL, closed_by = NULL") }
        }
        #expect(throws: (any Error).self) {
            try ledger.write { tx in try tx.db.execute(sql: "DELETE FROM holds") }
        }
        #expect(throws: (any Error).self, "a settled hold names its deduction") {
            try ledger.write { tx in
                let open = try tx.createHold(request("job-2", "10")).hold
                try tx.db.execute(
                    sql: "UPDATE holds SET state = 'settled', closed_at = 1, closed_by = 'key:x', settled_credits = 1 WHERE id = ?",
                    arguments: [open.id])
            }
        }
        #expect(try ledger.read { try $0.verify() }.passed)
    }

    @Test func verify_findsASettledHoldWhoseDeductionDisagrees() throws {
        let ledger = try ledger()
        let hold = try ledger.write { try $0.createHold(request("job", "10")).hold }
        _ = try ledger.write { try $0.settleHold(id: hold.id, credits: credits("8"), organisationID: nil) }
        #expect(try ledger.read { try $0.verify() }.checks.contains { $0.name == "holdsSettledByTheirDeduction" && $0.passed })
        try ledger.write { tx in
            try tx.db.execute(sql: "DROP TRIGGER holds_close_once")
            try tx.db.execute(sql: "UPDATE holds SET settled_credits = 9000000")
        }
        let check = try #require(try ledger.read { try $0.verify() }.checks.first { $0.name == "holdsSettledByTheirDeduction" })
        #expect(!check.passed)
        #expect(check.detail.contains("hold \(hold.id) settled 9000000"), "\(check.detail)")
        #expect(check.detail.contains("trigger holds_close_once is missing"), "\(check.detail)")
    }

    @Test func liveSpendsLeaveHeldCreditsAlone_batchUsageIsChargedWhateverIsHeld() throws {
        let ledger = try ledger()
        _ = try ledger.write { try $0.createHold(request("job", "95")) }
        #expect(throws: PostingRejection.exceedsSpendable(
            requested: credits("6"), spendable: credits("5"), blockedBy: .insufficientBalance)) {
            try ledger.write { try $0.spendLeavingHolds(usage("live", "6", policy: .withinSpendable)) }
        }
        let batch = try ledger.write { try $0.spend(usage("batch", "6", policy: .allowOverdraft(limit: .zero))) }
        #expect(batch.status == .posted, "usage that already happened is charged; a hold binds live work")
        let spendable = try ledger.write { try $0.spendableBalance(of: "met", spendableAt: clock.now).spendable(for: .p1) }
        #expect(spendable == credits("-1"), "94 available less 95 held")
    }

    @Test func settleCeiling_isTheEstimatePlusTenPercentRoundedDown() {
        func ceiling(_ estimate: String) -> Credits {
            Hold(id: 1, organisationID: "o", team: "t", investigation: nil, operation: "x", credits: credits(estimate),
                 idempotencyKey: "k", createdAt: instant("2026-11-20T10:00:00Z"),
                 expiresAt: instant("2026-11-20T11:00:00Z"), actor: "key:x", state: .open, closedAt: nil,
                 settledCredits: nil, settlementTransferID: nil).settleCeiling
        }
        #expect(ceiling("40") == credits("44"))
        #expect(ceiling("0.000009") == credits("0.000009"))
        #expect(ceiling("0.00001") == credits("0.000011"))
        #expect(ceiling("1000000000") == credits("1100000000"))
    }

    @Test func anExpiredHoldCanStillBeSettledWhenTheCreditsAreThere() throws {
        let ledger = try ledger()
        let hold = try ledger.write {
            try $0.createHold(HoldRequest(
                idempotencyKey: "job", organisationID: "met", team: "analysis", operation: "ocr", credits: credits("60"),
                expiresInSeconds: 60)).hold
        }
        clock.set("2026-11-20T10:01:00Z")
        #expect(hold.status(at: clock.now) == .expired)
        let other = try ledger.write { try $0.createHold(request("other", "100")).hold }
        #expect(throws: HoldRejection.self) {
            try ledger.write { try $0.settleHold(id: hold.id, credits: credits("1"), organisationID: nil) }
        }
        _ = try ledger.write { try $0.releaseHold(id: other.id, organisationID: nil) }
        let settled = try ledger.write { try $0.settleHold(id: hold.id, credits: credits("50"), organisationID: nil) }
        #expect(settled.hold.state == .settled)
        #expect(try ledger.read { try $0.balance(of: "met").available } == credits("50"))
    }
}
