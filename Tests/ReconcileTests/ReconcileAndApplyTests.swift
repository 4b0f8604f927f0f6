import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// Goal: `credits reconcile --apply` (`Reconciler.reconcileAndApply`) posts what `reconcile` then
/// `apply` post on the same ledger, transfer for transfer, in one walk; stores and seals the same plan,
/// marked applied; posts nothing when rerun; and cannot go stale, since nothing posts between the plan
/// and its postings.
@Suite struct ReconcileAndApplyTests {
    /// Two worlds fed the same random weeks (every kind of item, live usage between nights): one
    /// reconciles then applies, the other reconciles with --apply. Each week both make the same plan
    /// and end with the same ledger digest; a rerun of --apply posts nothing.
    @Test func randomNights_postWhatReconcileThenApplyPost() throws {
        var random = SeededRandom(label: "ReconcileAndApplyTests")
        print("ReconcileAndApplyTests seed \(random.seed)")
        for _ in 0..<3 {
            let organisations = [PlanSimulationTests.organisation()]
            let packages = [ReconcileWorld.pack, PlanSimulationTests.shortPack]
            let twoStages = try ReconcileWorld(organisations: organisations, packages: packages)
            let oneStage = try ReconcileWorld(organisations: organisations, packages: packages)
            var nights = (PlanSimulationTests.Night(world: twoStages), PlanSimulationTests.Night(world: oneStage))
            for week in 0..<6 {
                let start = instant("2026-11-01T00:00:00Z").adding(days: 7 * week)
                let asOf = start.adding(days: 7)
                var same = random
                try nights.0.fill(from: start, using: &random)
                try nights.1.fill(from: start, using: &same)

                let reviewed = try twoStages.reconcile(asOf: asOf.description)
                _ = try twoStages.apply()
                let position = try oneStage.ledger.read { try $0.ledgerPosition() }
                let applied = try Reconciler.reconcileAndApply(oneStage.ledger, options: .init(asOf: asOf))

                #expect(applied.applied == true, "week \(week)")
                #expect(applied.digest == reviewed.digest, "week \(week): the same plan")
                #expect(applied.items == reviewed.items && applied.credits == reviewed.credits, "week \(week)")
                #expect(applied.exceptions == reviewed.exceptions && applied.aged == reviewed.aged, "week \(week)")
                #expect(try oneStage.verify().digest == twoStages.verify().digest, "week \(week): the same ledger")
                let plan = try #require(try oneStage.ledger.read { try $0.plan(id: applied.planID) })
                #expect(plan.status == .applied && PlanSeal.holds(for: plan), "stored, sealed and applied")
                let actors = try oneStage.ledger.read { reader in
                    try String.fetchAll(reader.db, sql: "SELECT DISTINCT actor FROM transfers WHERE id > ?",
                                        arguments: [position])
                }
                #expect(actors.allSatisfy { $0 == "pipeline:apply:plan-\(applied.planID)" }, "\(actors)")

                let posted = try oneStage.ledger.read { try $0.ledgerPosition() }
                let rerun = try Reconciler.reconcileAndApply(oneStage.ledger, options: .init(asOf: asOf))
                #expect(rerun.applied == false && rerun.inputsUnchanged && rerun.planID == applied.planID)
                #expect(rerun.items == applied.items, "a rerun reports the night it already posted")
                #expect(try oneStage.ledger.read { try $0.ledgerPosition() } == posted, "and posts nothing")

                same = random
                try nights.0.liveUsage(at: asOf, using: &random)
                try nights.1.liveUsage(at: asOf, using: &same)
            }
            #expect(try oneStage.verify().passed)
        }
    }

    /// A plan reviewed but not yet applied, then the live route charging one of its events (which
    /// makes it stale): --apply plans again with that charge in the ledger and posts the rest; the
    /// reviewed plan is superseded, so `apply` has nothing left to post, and the event is charged once.
    @Test func aReviewedPlanGoneStale_isSupersededAndPostedFresh() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"))
        try world.stage(world.event("e1", credits: "700"))
        let reviewed = try world.reconcile()
        _ = try world.ledger.write { tx in
            try tx.spend(SpendRequest(
                idempotencyKey: IdempotencyKey.deduction(costEventID: "e1"), organisationID: "met", credits: Credits(700),
                effectiveAt: instant("2026-11-12T09:00:00Z"), priority: .p3, policy: .allowOverdraft(limit: Credits(1_000)),
                references: TransferReferences(costEventID: "e1")))
        }
        let applied = try Reconciler.reconcileAndApply(world.ledger, options: .init(asOf: instant("2026-11-20T00:00:00Z")))
        #expect(applied.applied == true && applied.planID == reviewed.planID + 1)
        #expect(applied.digest != reviewed.digest, "the live charge moved what the plan posts")
        #expect(applied.items == ["top_up": 1], "e1 is charged once, by the live route")
        #expect(try world.ledger.read { try $0.plan(id: reviewed.planID) }?.status == .superseded)
        #expect(try world.apply().status == .nothingToApply)
        #expect(try world.balance() == Credits(10_000 - 700))
        #expect(try world.verify().passed)
    }

    /// A night with new input after an applied one posts only the new input, under a new plan.
    @Test func newInputAfterAnAppliedNight_postsOnlyTheNewInput() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"))
        try world.stage(world.event("e1", credits: "700"))
        let options = Reconciler.Options(asOf: instant("2026-11-20T00:00:00Z"))
        let first = try Reconciler.reconcileAndApply(world.ledger, options: options)
        #expect(first.items == ["top_up": 1, "deduction": 1])
        try world.stage(world.event("e2", credits: "50"))
        let second = try Reconciler.reconcileAndApply(world.ledger, options: options)
        #expect(second.applied == true && second.planID == first.planID + 1 && second.items == ["deduction": 1])
        #expect(try world.balance() == Credits(10_000 - 750))
        #expect(try world.verify().passed)
    }
}
