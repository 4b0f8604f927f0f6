import Foundation
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// Goal (issue 15, D4): one staged event whose credits no transfer can carry is that event's
/// problem, never the night's. Reconcile reports it as a finding for its organisation and plans
/// everyone else's work; an operator voids it (audited, exactly once) and it is never charged.
///
/// The events are staged straight into the table, as a version without the per-event limit (or a
/// hand-edited database) would have left them: ingest and the live API now refuse them up front.
@Suite struct UnchargeableUsageTests {
    static func world() throws -> ReconcileWorld {
        var met = SampleWorld.organisation("met", overdraft: Credits(1_000))
        met.planID = nil
        return try ReconcileWorld(organisations: [met, SampleWorld.organisation("gmp", overdraft: Credits(100))])
    }

    /// `met` in overdraft (-500) with an Int64.max event staged: `-500 - Int64.max` is what used to
    /// stop reconcile with `arithmetic overflow` for every organisation.
    static func stageTheBigEvent(_ world: ReconcileWorld) throws {
        try world.stage(
            world.event("small", credits: "500", at: "2026-11-12T09:00:00Z"),
            world.event("big-1", credits: "9223372036854.775807", at: "2026-11-12T10:00:00Z"),
            world.event("gmp-1", credits: "40", at: "2026-11-12T11:00:00Z", organisation: "gmp"))
    }

    @Test func anEventAtInt64Max_isAFindingForItsOrganisation_andEveryoneElseIsPlanned() throws {
        let world = try Self.world()
        try Self.stageTheBigEvent(world)
        let plan = try world.reconcile()
        #expect(plan.items == ["deduction": 2], "small and gmp-1 are planned; big-1 is not")
        let unchargeable = plan.exceptions.filter { $0.code == FindingCode.usageNotChargeable }
        #expect(unchargeable.count == 1)
        #expect(unchargeable.first?.organisationID == "met")
        #expect(unchargeable.first?.subject == "big-1")
        #expect(unchargeable.first?.detail.contains("[amountAboveTransferLimit]") == true)
        _ = try world.apply()
        #expect(try world.balance("met") == Credits(-500))
        #expect(try world.balance("gmp") == Credits(-40))
        #expect(try world.verify().passed)
        // The next night is not stopped either: the event is reported again until someone voids it.
        let next = try world.reconcile(asOf: "2026-11-21T00:00:00Z")
        #expect(next.exceptions.map(\.code).contains(FindingCode.usageNotChargeable))
    }

    @Test func aVoidedEvent_isNeverCharged_andTheVoidIsRecordedOnce() throws {
        let world = try Self.world()
        try Self.stageTheBigEvent(world)
        let first = try world.ledger.write { tx in
            try tx.voidCostEvent(eventID: "big-1", actor: "operator:alice", reason: "producer sent Int64.max")
        }
        #expect(first.status == .voided)
        #expect(first.void.actor == "operator:alice")
        #expect(first.void.reason == "producer sent Int64.max")
        #expect(first.void.voidedAt == world.clock.provider())
        #expect(first.void.organisationID == "met")
        // Again, with another reason and another person: nothing is recorded, the first stands.
        let again = try world.ledger.write { tx in
            try tx.voidCostEvent(eventID: "big-1", actor: "operator:bob", reason: "second thoughts")
        }
        #expect(again.status == .alreadyVoided)
        #expect(again.void == first.void)
        #expect(try world.ledger.read { try String.fetchAll($0.db, sql: "SELECT event_id FROM cost_event_voids") }
            == ["big-1"])

        let plan = try world.reconcile()
        #expect(plan.items == ["deduction": 2])
        #expect(!plan.exceptions.map(\.code).contains(FindingCode.usageNotChargeable))
        _ = try world.apply()
        #expect(try world.ledger.read { try $0.transfer(idempotencyKey: "deduction:cost-event:big-1") } == nil)
        let report = try world.verify()
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")
        #expect(report.checks.contains { $0.name == "voidedEventsNeverCharged" && $0.passed })
    }

    @Test func voidRefusesUnknownAndChargedEvents_andRequiresAReason() throws {
        let world = try Self.world()
        try Self.stageTheBigEvent(world)
        _ = try world.reconcile()
        _ = try world.apply()
        #expect(throws: CostEventVoidRefusal.eventNotStaged(eventID: "nope")) {
            try world.ledger.write { try $0.voidCostEvent(eventID: "nope", actor: "operator:alice", reason: "x") }
        }
        #expect(throws: CostEventVoidRefusal.self) {
            try world.ledger.write { try $0.voidCostEvent(eventID: "small", actor: "operator:alice", reason: "x") }
        }
        #expect(throws: CostEventVoidRefusal.reasonRequired) {
            try world.ledger.write { try $0.voidCostEvent(eventID: "big-1", actor: "operator:alice", reason: "  ") }
        }
        // Voids are append-only, like transfers.
        _ = try world.ledger.write { try $0.voidCostEvent(eventID: "big-1", actor: "operator:alice", reason: "bad") }
        #expect(throws: (any Error).self) {
            try world.ledger.write { tx in try tx.db.execute(sql: "DELETE FROM cost_event_voids") }
        }
    }

    @Test func aPlanMadeBeforeAVoid_isStaleAtApply() throws {
        let world = try Self.world()
        try world.stage(world.event("wrong", credits: "10", at: "2026-11-12T09:00:00Z"))
        #expect(try world.reconcile().items == ["deduction": 1])
        _ = try world.ledger.write { try $0.voidCostEvent(eventID: "wrong", actor: "operator:alice", reason: "test") }
        #expect(throws: PlanApplier.Refusal.planStale(planID: 1, organisations: ["met"])) { try world.apply() }
        #expect(try world.reconcile().items.isEmpty)
        _ = try world.apply()
        #expect(try world.balance("met") == .zero)
    }

    @Test func planTotalsThatPassInt64_areCappedAndReportedNotFatal() {
        var totals = PlanTotals()
        let item = { (organisation: String) in
            PlanItem(kind: .deduction, idempotencyKey: "k-\(organisation)", organisationID: organisation,
                     effectiveAt: instant("2026-11-12T09:00:00Z"), credits: Credits(1))
        }
        let fits = totals.add(item("met"), posted: Credits(microcredits: .max))
        let overflows = totals.add(item("met"), posted: Credits(microcredits: 1))
        let other = totals.add(item("gmp"), posted: Credits(5))
        #expect(fits)
        #expect(!overflows, "the overflow is reported")
        #expect(other, "another organisation's total is its own")
        #expect(totals.rows.first { $0.organisationID == "met" }?.credits == Credits(microcredits: .max))
        #expect(totals.creditsByKind()["deduction"] == Credits(microcredits: .max), "capped, never a failure")
        #expect(totals.count == 3)
    }
}
