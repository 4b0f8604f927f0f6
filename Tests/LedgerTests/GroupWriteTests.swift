import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: `writeEach` (the live service's group commit) commits every unit that succeeds in one
/// transaction, rolls back only the unit that fails, and writes nothing when the transaction itself fails.
@Suite struct GroupWriteTests {
    let directory = TemporaryDirectory("group-write")

    struct UnitFailed: Error {}

    func event(_ id: String) -> StagedCostEvent {
        StagedCostEvent(
            eventID: id, contentSHA256: .sha256(of: Array("a".utf8)), organisationID: "met", team: "analysis",
            investigation: nil, operation: "ocr", credits: credits("1"), occurredAt: instant("2026-11-02T10:00:00Z"),
            sourceFile: "live", sourceLine: 1)
    }

    @Test func writeEach_rollsBackOnlyTheFailingUnit() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        // Unit "e2" stages its event and then fails: its staging must vanish, its neighbours' must stay.
        let outcomes = try ledger.writeEach(["e1", "e2", "e3"]) { tx, id in
            let staged = try tx.stage([event(id)])
            if id == "e2" { throw UnitFailed() }
            return staged
        }
        #expect(outcomes.count == 3)
        #expect((try? outcomes[0].get()) == [.staged])
        #expect(throws: UnitFailed.self) { try outcomes[1].get() }
        #expect((try? outcomes[2].get()) == [.staged])
        #expect(try ledger.read { try $0.stagedEventCount() } == 2)
    }

    @Test func writeEach_seesEarlierUnitsOfTheSameGroup() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let outcomes = try ledger.writeEach(["e1", "e1"]) { tx, id in try tx.stage([event(id)]) }
        #expect((try? outcomes[0].get()) == [.staged])
        #expect((try? outcomes[1].get()) == [.duplicate])
    }

    @Test func writeEach_aConstraintFailsItsUnitOnly() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let outcomes = try ledger.writeEach([0, 1]) { tx, unit in
            // The organisation must exist (foreign key): unit 1 breaks the schema's rule.
            try tx.stage([unit == 1 ? { var broken = event("x"); broken.organisationID = "nobody"; return broken }()
                                    : event("ok")])
        }
        #expect((try? outcomes[0].get()) == [.staged])
        #expect(throws: StorageError.self) { try outcomes[1].get() }
        #expect(try ledger.read { try $0.stagedEventCount() } == 1)
    }

    @Test func writeEach_aDatabaseFailureWritesNothing() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        #expect(throws: StorageError.self) {
            _ = try ledger.writeEach(["e1", "e2"]) { tx, id in
                _ = try tx.stage([event(id)])
                // Not a constraint: the whole group must fail, e1 included.
                if id == "e2" { try tx.db.execute(sql: "SELECT * FROM no_such_table") }
            }
        }
        #expect(try ledger.read { try $0.stagedEventCount() } == 0)
    }

    /// A unit that spends and then fails is rolled back; the spend must not linger in what the
    /// transaction remembers of the balance, or the next unit would be refused credits it has.
    @Test func writeEach_aRolledBackSpendLeavesTheBalanceAsItWas() throws {
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        try ledger.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "fund", organisationID: "met", source: .topUp, credits: credits("10"),
                price: Money(minorUnits: 100, currency: .gbp), effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        let outcomes = try ledger.writeEach(["spend-1", "spend-2"]) { tx, key in
            let posting = try tx.spend(SpendRequest(
                idempotencyKey: key, organisationID: "met", credits: credits("10"),
                effectiveAt: instant("2026-11-02T10:00:00Z"), priority: .unprioritised, policy: .withinSpendable))
            if key == "spend-1" { throw UnitFailed() }
            return posting.transfer.amount
        }
        #expect(throws: UnitFailed.self) { try outcomes[0].get() }
        #expect((try? outcomes[1].get()) == credits("10"), "all 10 credits were still spendable")
        #expect(try ledger.read { try $0.balance(of: "met").available } == .zero)
    }
}
