import Foundation
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// Goal: each class of the payments three-way match, from staged observations, with the finding
/// codes a person sees; and the exactly-once rule whichever way a completed order arrives.
@Suite struct PaymentMatchTests {
    @Test func completedOrderWithoutTopUp_isProposedThenMatched() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "pending", updated: "2026-11-10T11:58:00Z"), world.order("o1", state: "completed"))
        let plan = try world.reconcile()
        #expect(plan.items == ["top_up": 1])
        #expect(plan.credits["top_up"] == Credits(10_000))
        #expect(try world.apply().status == .applied)
        #expect(try world.balance() == Credits(10_000))
        world.clock.advance(days: 1)
        // The same night again (a rerun): the applied plan is kept and answers as it did.
        let rerun = try world.reconcile()
        #expect(rerun.planID == plan.planID && !rerun.newPlan && rerun.items == plan.items)
        let again = try world.reconcile(asOf: "2026-11-21T00:00:00Z")
        #expect(again.items.isEmpty)
        #expect(again.findings["matched"] == 1, "the next plan reports the top-up the last one posted as matched")
        #expect(try world.apply().status == .applied)
        world.clock.advance(days: 1)
        #expect(try world.reconcile(asOf: "2026-11-22T00:00:00Z").findings["matched"] == nil,
                "reported once: a plan does not list every order ever credited")
        #expect(try world.verify().passed)
    }

    @Test func sameOrderByWebhookApiAndCsv_inAnyOrder_creditsOnce() throws {
        // Orders of arrival: webhook first; exports first then webhook racing the apply.
        let first = try ReconcileWorld()
        _ = try first.ledger.write { tx in
            try tx.creditCompletedOrder(CompletedOrder(
                orderID: "o1", organisationID: "met", packageID: "pack_10k", credits: Credits(10_000),
                price: Money(minorUnits: 45_000, currency: .gbp), completedAt: instant("2026-11-10T12:00:01Z"), expiresAt: nil))
        }
        try first.observe(first.order("o1", state: "completed"), first.order("o1", state: "completed", source: "settlement_csv"))
        #expect(try first.reconcile().items.isEmpty)
        #expect(try first.apply().status == .applied)
        #expect(try first.balance() == Credits(10_000))

        let second = try ReconcileWorld()
        try second.observe(second.order("o1", state: "completed", source: "settlement_csv"), second.order("o1", state: "completed"))
        #expect(try second.reconcile().items == ["top_up": 1])
        // The webhook credits the order between reconcile and apply: the plan is stale.
        _ = try second.ledger.write { tx in
            try tx.creditCompletedOrder(CompletedOrder(
                orderID: "o1", organisationID: "met", packageID: "pack_10k", credits: Credits(10_000),
                price: Money(minorUnits: 45_000, currency: .gbp), completedAt: instant("2026-11-10T12:00:02Z"), expiresAt: nil))
        }
        #expect(throws: PlanApplier.Refusal.planStale(planID: 1, organisations: ["met"])) { try second.apply() }
        #expect(try second.reconcile().items.isEmpty)
        #expect(try second.apply().status == .applied)
        #expect(try second.balance() == Credits(10_000))
        let topUps = try second.ledger.read { try $0.history(of: "met", kinds: [.topUp]) }
        #expect(topUps.count == 1)
    }

    @Test func mismatchesAreExceptionsAndNothingIsCredited() throws {
        let world = try ReconcileWorld()
        try world.observe(
            world.order("short", state: "completed", amount: 44_999),
            world.order("dollars", state: "completed", currency: .usd),
            world.order("untied", state: "completed", organisation: nil, package: nil),
            world.order("nopack", state: "completed", package: "pack_999"),
            world.order("split", state: "completed"), world.order("split", state: "completed", amount: 40_000, source: "settlement_csv"))
        let plan = try world.reconcile()
        #expect(plan.items.isEmpty)
        let codes = Dictionary(uniqueKeysWithValues: plan.exceptions.map { ($0.subject, $0.code) })
        #expect(codes == [
            "short": .orderAmountMismatch, "dollars": .orderCurrencyMismatch, "untied": .orderNotTied,
            "nopack": .unknownPackage, "split": .orderSourcesDisagree,
        ])
        #expect(plan.needsReview)
    }

    @Test func topUpWithNoCompletedOrder_andAgedPending_areReported() throws {
        let world = try ReconcileWorld()
        _ = try world.ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "manual", organisationID: "met", source: .topUp, credits: Credits(100),
                effectiveAt: instant("2026-11-01T00:00:00Z"), references: TransferReferences(revolutOrderID: "ghost")))
        }
        try world.observe(world.order("slow", state: "pending", updated: "2026-11-10T11:58:00Z"))
        let plan = try world.reconcile()
        #expect(plan.exceptions.map(\.code) == [.topUpWithoutCompletedOrder])
        #expect(plan.aged.map(\.code) == [.orderPendingTooLong])
    }

    @Test func refundAfterTopUp_reversesOnlyTheUnspentPart() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"))
        _ = try world.reconcile()
        _ = try world.apply()
        try world.stage(world.event("e1", credits: "4000", at: "2026-11-11T09:00:00Z"))
        _ = try world.reconcile()
        _ = try world.apply()
        // A partial refund of half the price: 5,000 credits asked back, 6,000 unspent, all reversed.
        try world.observe(world.order("r1", state: "completed", amount: 22_500, type: "refund", related: "o1",
                                      updated: "2026-11-12T10:00:00Z"))
        let partial = try world.reconcile()
        #expect(partial.items == ["reversal": 1])
        #expect(partial.credits["reversal"] == Credits(5_000))
        _ = try world.apply()
        #expect(try world.balance() == Credits(1_000))
        // A chargeback of the rest: 5,000 asked back but only 1,000 left.
        try world.observe(world.order("c1", state: "completed", amount: 22_500, type: "chargeback", related: "o1",
                                      updated: "2026-11-13T10:00:00Z"))
        let chargeback = try world.reconcile()
        #expect(chargeback.credits["reversal"] == Credits(1_000))
        #expect(chargeback.exceptions.map(\.code) == [.refundAfterSpend])
        _ = try world.apply()
        #expect(try world.balance() == .zero)
        #expect(try world.verify().passed)
    }
}
