import Foundation
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// Goal: allocations and expiries land in the right period in each organisation's own calendar,
/// usage is charged by policy, and apply posts exactly the stored plan once.
@Suite struct PlanTests {
    static func organisation(_ id: String, plan: String, zone: String, start: String, currency: Currency = .gbp) -> Organisation {
        var organisation = SampleWorld.organisation(id, currency: currency)
        organisation.planID = plan
        organisation.timeZone = zone
        organisation.planStart = LocalDate.parse(start)
        return organisation
    }

    @Test func monthlyAllocation_startsAtLocalMidnight_acrossDST() throws {
        // New York leaves daylight time on 2026-11-01 at 02:00 local; November starts at 04:00Z.
        let world = try ReconcileWorld(organisations: [
            Self.organisation("nyc", plan: "monthly", zone: "America/New_York", start: "2026-10-01", currency: .usd),
        ])
        let beforeMidnight = try world.reconcile(asOf: "2026-11-01T03:59:59Z")
        #expect(beforeMidnight.items == ["allocation": 1], "only October is due")
        _ = try world.apply()
        let after = try world.reconcile(asOf: "2026-11-01T04:00:01Z")
        #expect(after.items == ["allocation": 1, "expiry": 1])
        _ = try world.apply()
        let transfers = try world.ledger.read { try $0.history(of: "nyc") }
        // At one instant money comes in before it goes out: November's allocation, then October's expiry.
        #expect(transfers.map(\.kind) == [.allocation, .allocation, .expiry])
        #expect(transfers.map(\.effectiveAt.iso8601) == [
            "2026-10-01T04:00:00.000Z", "2026-11-01T04:00:00.000Z", "2026-11-01T04:00:00.000Z",
        ])
        #expect(transfers[1].references.planPeriod == "2026-11")
        #expect(transfers[2].amount == Credits(50_000), "October's unused allocation expires at its end")
        #expect(try world.verify().passed)
    }

    @Test func financialYear_allocatesOncePerYearFromItsStartMonth() throws {
        let world = try ReconcileWorld(organisations: [
            Self.organisation("nca", plan: "annual", zone: "Europe/London", start: "2026-04-01"),
        ])
        _ = try world.reconcile(asOf: "2027-03-31T22:59:59Z")
        _ = try world.apply()
        #expect(try world.balance("nca") == Credits(600_000))
        // 1 April 2027 00:00 in London is 2027-03-31T23:00Z (BST).
        let next = try world.reconcile(asOf: "2027-03-31T23:00:01Z")
        #expect(next.items == ["allocation": 1, "expiry": 1])
        _ = try world.apply()
        let periods = try world.ledger.read { try $0.history(of: "nca", kinds: [.allocation]).map { $0.references.planPeriod } }
        #expect(periods == ["FY2026-04", "FY2027-04"])
        #expect(try world.balance("nca") == Credits(600_000))
        #expect(try world.reconcile(asOf: "2027-05-01T00:00:00Z").items.isEmpty)
    }

    @Test func usage_chargedByPriority_intoReserveOverdraftAndBeyond() throws {
        let world = try ReconcileWorld()
        _ = try world.ledger.write { tx in
            try tx.grant(GrantRequest(idempotencyKey: "g", organisationID: "met", source: .allocation, credits: Credits(6_000),
                                      effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        try world.stage(
            world.event("routine-1", credits: "1000", at: "2026-11-12T09:00:00Z"),  // spendable P3: 1,000 (5,000 reserved)
            world.event("routine-2", credits: "2000", at: "2026-11-12T10:00:00Z"),  // into the reserve
            world.event("closed", credits: "3500", investigation: "op-gone", at: "2026-11-12T11:00:00Z"),
            world.event("too-much", credits: "2000", at: "2026-11-12T12:00:00Z"))  // beyond the 1,000 overdraft
        let plan = try world.reconcile()
        #expect(plan.items == ["deduction": 3])
        let codes = Set(plan.exceptions.map(\.code))
        #expect(codes == [.usageIntoReserve, .usageInOverdraft, .usageBeyondOverdraftLimit, .usageOnUnknownInvestigation])
        _ = try world.apply()
        #expect(try world.balance() == Credits(-500))
        // The refused event stays staged and is proposed again once credits arrive.
        _ = try world.ledger.write { tx in
            try tx.grant(GrantRequest(idempotencyKey: "g2", organisationID: "met", source: .topUp, credits: Credits(10_000),
                                      effectiveAt: instant("2026-11-13T00:00:00Z")))
        }
        #expect(try world.reconcile().items == ["deduction": 1])
        _ = try world.apply()
        #expect(try world.verify().passed)
    }

    @Test func apply_refusesAnAlteredPlan_andPostsOnce() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"))
        _ = try world.reconcile()
        try world.ledger.write { tx in
            try tx.db.execute(sql: "UPDATE reconcile_plan_items SET payload = replace(payload, '10000', '90000')")
        }
        #expect(throws: PlanApplier.Refusal.planAltered(planID: 1)) { try world.apply() }
        #expect(try world.balance() == .zero, "nothing was posted")
        _ = try world.reconcile()
        #expect(try world.apply().status == "applied")
        #expect(try world.apply().status == "nothing_to_apply")
        #expect(try world.balance() == Credits(10_000))
    }

    @Test func reconcile_rerunOnUnchangedInputs_reusesThePlan() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"))
        let first = try world.reconcile()
        let second = try world.reconcile()
        #expect(first.planID == second.planID)
        #expect(first.digest == second.digest)
        #expect(!second.newPlan)
    }
}

/// Goal: usage refused beyond the overdraft limit is charged as soon as credits arrive, whether
/// they arrive by webhook (already in the ledger at reconcile) or through reconcile itself (a
/// top-up in the same plan): the two worlds end with the same ledger digest.
@Suite struct CarriedOverUsageTests {
    static func world() throws -> ReconcileWorld {
        let world = try ReconcileWorld()
        try world.stage(world.event("late", credits: "2500", at: "2026-11-12T09:00:00Z"))
        let first = try world.reconcile(asOf: "2026-11-13T00:00:00Z")
        #expect(first.exceptions.map(\.code) == [.usageBeyondOverdraftLimit], "1,000 overdraft cannot cover 2,500")
        _ = try world.apply()
        return world
    }

    @Test func creditsByWebhookOrByReconcile_chargeTheSameUsage() throws {
        let byWebhook = try Self.world()
        _ = try byWebhook.ledger.write { tx in
            try tx.creditCompletedOrder(CompletedOrder(
                orderID: "o1", organisationID: "met", packageID: "pack_10k", credits: Credits(10_000),
                price: Money(minorUnits: 45_000, currency: .gbp), completedAt: instant("2026-11-14T12:00:00Z"),
                expiresAt: instant("2026-11-14T12:00:00Z").adding(days: 365)))
        }
        try byWebhook.observe(byWebhook.order("o1", state: "completed", updated: "2026-11-14T12:00:00Z"))
        let webhookPlan = try byWebhook.reconcile(asOf: "2026-11-15T00:00:00Z")
        #expect(webhookPlan.items == ["deduction": 1])
        _ = try byWebhook.apply()

        let byReconcile = try Self.world()
        try byReconcile.observe(byReconcile.order("o1", state: "completed", updated: "2026-11-14T12:00:00Z"))
        let plan = try byReconcile.reconcile(asOf: "2026-11-15T00:00:00Z")
        #expect(plan.items == ["top_up": 1, "deduction": 1], "the carried-over usage posts after the top-up")
        #expect(plan.exceptions.isEmpty)
        _ = try byReconcile.apply()

        #expect(try byReconcile.balance() == Credits(7_500))
        #expect(try byWebhook.balance() == Credits(7_500))
        #expect(try byReconcile.verify().digest == byWebhook.verify().digest)
    }
}
