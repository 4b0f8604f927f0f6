import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Reconcile

/// Goal: a reconcile rerun on unchanged inputs returns the stored plan without planning again, with the
/// very summary a walk gives; and a change to any input the plan is made from plans again.
@Suite struct PlanInputsTests {
    static let asOf = "2026-11-20T00:00:00Z"

    /// `met` with 8,000 credits, two staged events, a completed order not yet credited, a purchase waiting.
    static func world() throws -> ReconcileWorld {
        let world = try ReconcileWorld()
        _ = try world.ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "g", organisationID: "met", source: .allocation, credits: Credits(8_000),
                effectiveAt: instant("2026-11-01T00:00:00Z"), expiresAt: instant("2026-12-31T00:00:00Z")))
        }
        try world.stage(
            world.event("e1", credits: "1000", at: "2026-11-12T09:00:00Z"),
            world.event("e2", credits: "2000", at: "2026-11-13T09:00:00Z"))
        try world.observe(world.order("o1", state: "completed"))
        return world
    }

    /// The summary with the flags that tell how it was found left out, to compare a walk with a reuse.
    static func comparable(_ summary: Reconciler.Summary) -> Reconciler.Summary {
        var copy = summary
        copy.inputsUnchanged = false
        copy.newPlan = false
        return copy
    }

    @Test func aRerunOnUnchangedInputs_returnsTheStoredPlanAsAWalkWould() throws {
        let world = try Self.world()
        let first = try world.reconcile(asOf: Self.asOf)
        #expect(first.newPlan && !first.inputsUnchanged)
        let again = try world.reconcile(asOf: Self.asOf)
        #expect(again.inputsUnchanged && !again.newPlan && again.planID == first.planID)
        #expect(Self.comparable(again) == Self.comparable(first))
        // Another as-of instant is another plan.
        #expect(try world.reconcile(asOf: "2026-11-21T00:00:00Z").inputsUnchanged == false)
        // Applied, then rerun twice: the first rerun checks the applied plan by walking, the second reuses it.
        _ = try world.reconcile(asOf: Self.asOf)
        #expect(try world.apply().status == .applied)
        let afterApply = try world.reconcile(asOf: Self.asOf)
        let afterApplyAgain = try world.reconcile(asOf: Self.asOf)
        #expect(!afterApply.inputsUnchanged && afterApplyAgain.inputsUnchanged)
        #expect(Self.comparable(afterApplyAgain) == afterApply)
        #expect(try world.verify().passed)
    }

    /// Each input a plan is made from, changed in turn: the rerun plans again, and its plan is the one a
    /// walk makes (the digest apply checks).
    @Test(arguments: ["event", "void", "observation", "transfer", "reservation", "expiry move", "purchase", "configuration"])
    func aChangedInput_plansAgain(input: String) throws {
        let world = try Self.world()
        #expect(try world.reconcile(asOf: Self.asOf).newPlan)
        #expect(try world.reconcile(asOf: Self.asOf).inputsUnchanged)
        let admin = ConfigurationChangeAttribution(actor: "key:abc", idempotencyKey: nil)
        switch input {
        case "event": try world.stage(world.event("e3", credits: "10", at: "2026-11-14T09:00:00Z"))
        case "void":
            _ = try world.ledger.write { try $0.voidCostEvent(eventID: "e2", actor: "operator:tests", reason: "test record") }
        case "observation": try world.observe(world.order("o2", state: "pending"))
        case "transfer": try StalePlanTests.liveUsage(world, "live-1", credits: 10, priority: .p1)
        case "reservation":
            _ = try world.ledger.write {
                try $0.setReservation(organisationID: "met", reservationID: "r", credits: Credits(7_000), maxPriority: .p1, by: admin)
            }
        case "expiry move":
            let grantID = try #require(try world.ledger.read { try $0.transfer(idempotencyKey: "g") }?.grantID)
            _ = try world.ledger.write(as: .operator(name: "tests")) {
                try $0.moveGrantExpiry(grantID: grantID, to: instant("2026-11-25T00:00:00Z"), idempotencyKey: "m", reason: "r")
            }
        case "purchase":
            _ = try world.ledger.write { tx in
                try tx.recordPurchase(Purchase(
                    reference: "cpk_new", organisationID: "met", packageID: "pack_10k", credits: Credits(10_000),
                    price: Money(minorUnits: 45_000, currency: .gbp), revolutOrderID: nil, checkoutURL: nil,
                    createdAt: instant("2026-11-01T00:00:00Z")))
            }
        default:
            // The world's configuration with another overdraft limit.
            var met = SampleWorld.organisation(
                "met", reservations: [Reservation(id: "p1", credits: Credits(5_000), maxPriority: .p1)],
                overdraft: Credits(2_000))
            met.planID = nil
            var configuration = SampleWorld.configuration([met])
            configuration.plans = [ReconcileWorld.monthly, ReconcileWorld.annual]
            configuration.packages = [ReconcileWorld.pack]
            _ = try world.ledger.write { [configuration] tx in try tx.load(configuration) }
        }
        let second = try world.reconcile(asOf: Self.asOf)
        #expect(!second.inputsUnchanged, "\(input) changed, so the plan is made again")
        #expect(try world.apply().status == .applied, "apply accepts the plan the walk made")
    }
}
