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

    @Test(arguments: [
        "UPDATE reconcile_plans SET digest = printf('%064d', 0)",
        "UPDATE reconcile_plans SET summary = '0 items, 0 findings'",
        "UPDATE reconcile_plans SET as_of = as_of - 1",
        "UPDATE reconcile_plan_totals SET credits = credits * 9",
        "DELETE FROM reconcile_plan_totals",
        "UPDATE reconcile_findings SET detail = 'nothing to see'",
    ])
    func apply_refusesAnAlteredPlan_andPostsOnce(tampering: String) throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"), world.order("slow", state: "pending"))
        let reviewed = try world.reconcile()
        #expect(reviewed.aged.map(\.code) == [.orderPendingTooLong], "a finding to tamper with")
        try world.ledger.write { tx in try tx.db.execute(sql: tampering) }
        #expect(throws: PlanApplier.Refusal.planAltered(planID: 1)) { try world.apply() }
        #expect(try world.balance() == .zero, "nothing was posted")
        let fresh = try world.reconcile()
        #expect(fresh.newPlan && fresh.planID == 2, "an altered plan is never reused")
        #expect(fresh.digest == reviewed.digest, "the inputs did not change, so neither did what posts")
        #expect(try world.apply().status == .applied)
        #expect(try world.apply().status == .nothingToApply)
        #expect(try world.balance() == Credits(10_000))
    }

    @Test func apply_refusesAPlanMadeByAnEarlierVersion() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"))
        _ = try world.reconcile()
        // What the migration leaves of a plan stored with its items: no seal, no aged-after days.
        try world.ledger.write { tx in try tx.db.execute(sql: "UPDATE reconcile_plans SET seal = NULL, aged_after_days = NULL") }
        #expect(throws: PlanApplier.Refusal.planFromEarlierVersion(planID: 1)) { try world.apply() }
        #expect(try world.reconcile().newPlan)
        #expect(try world.apply().status == .applied)
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

/// Goal: a plan is stale only when posting it now would differ from what finance reviewed. Postings
/// between reconcile and apply that leave the plan's transfers and findings as they were (live
/// usage, a top-up, an adjustment) do not stop apply; one that changes them makes apply refuse
/// (nothing posted), and reconcile then makes a fresh plan that applies.
@Suite struct StalePlanTests {
    /// met holds 8,000 credits, 5,000 of them reserved for P1 work; 3,000 of P3 usage is staged,
    /// exactly what P3 may spend, so the plan charges it without a finding.
    static func world() throws -> ReconcileWorld {
        let world = try ReconcileWorld()
        _ = try world.ledger.write { tx in
            try tx.grant(GrantRequest(idempotencyKey: "g", organisationID: "met", source: .allocation, credits: Credits(8_000),
                                      effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        try world.stage(
            world.event("e1", credits: "1000", at: "2026-11-12T09:00:00Z"),
            world.event("e2", credits: "2000", at: "2026-11-13T09:00:00Z"))
        return world
    }

    /// What the live route does for one event (UsageRoute): a deduction keyed by the event, within
    /// what the work's priority may spend, effective when the work happened.
    static func liveUsage(_ world: ReconcileWorld, _ id: String, credits amount: Int64, priority: Priority,
                          at: String = "2026-11-20T05:00:00Z") throws {
        _ = try world.ledger.write { tx in
            try tx.spend(SpendRequest(
                idempotencyKey: "deduction:cost-event:\(id)", organisationID: "met", purpose: .deduction,
                credits: Credits(amount), effectiveAt: instant(at), priority: priority, policy: .withinSpendable,
                references: TransferReferences(costEventID: id)))
        }
    }

    @Test func postingsThatLeaveThePlanAsItWas_doNotMakeItStale() throws {
        let world = try Self.world()
        let plan = try world.reconcile()
        #expect(plan.items == ["deduction": 2] && plan.exceptions.isEmpty)
        // A top-up of another order by webhook (after the as-of instant), then live P1 usage it pays for.
        _ = try world.ledger.write { tx in
            try tx.creditCompletedOrder(CompletedOrder(
                orderID: "o-live", organisationID: "met", packageID: "pack_10k", credits: Credits(10_000),
                price: Money(minorUnits: 45_000, currency: .gbp), completedAt: instant("2026-11-20T04:00:00Z"),
                expiresAt: nil))
        }
        try Self.liveUsage(world, "live-1", credits: 500, priority: .p1)
        let applied = try world.apply()
        #expect(applied.status == .applied && applied.digest == plan.digest)
        #expect(applied.transfers == ["deduction": 2])
        #expect(try world.balance() == Credits(8_000 + 10_000 - 500 - 3_000))
        #expect(try world.verify().passed)
    }

    @Test func aPostingThatChangesThePlan_makesApplyRefuse_andReconcileMakesAFreshPlan() throws {
        let world = try Self.world()
        let plan = try world.reconcile()
        // Live P1 usage takes 1,000 of the unreserved credits: 1,000 of the plan's P3 usage would now
        // go into the reserve, which finance has not reviewed.
        try Self.liveUsage(world, "live-1", credits: 1_000, priority: .p1)
        #expect(throws: PlanApplier.Refusal.planStale(planID: plan.planID, organisations: ["met"])) { try world.apply() }
        #expect(try world.balance() == Credits(7_000), "nothing of the stale plan was posted")
        #expect(throws: PlanApplier.Refusal.self, "still refused") { try world.apply() }

        let fresh = try world.reconcile()
        #expect(fresh.newPlan && fresh.planID != plan.planID && fresh.digest != plan.digest,
                "a stale plan is never returned as unchanged")
        #expect(fresh.exceptions.map(\.code) == [.usageIntoReserve])
        #expect(try world.reconcile().newPlan == false, "the fresh plan is reused while nothing moves")
        let applied = try world.apply()
        #expect(applied.status == .applied && applied.digest == fresh.digest)
        #expect(try world.balance() == Credits(4_000))
        #expect(try world.verify().passed)
        // The audit trail: apply's deductions name the plan they came from; the live one, its caller.
        let actors = try world.ledger.read { reader in
            try reader.history(of: "met", kinds: [.deduction]).map {
                ($0.references.costEventID ?? "", $0.actor)
            }
        }
        let expected = Actor.pipeline(.apply, plan: applied.planID)
        #expect(actors.filter { $0.0 != "live-1" }.allSatisfy { $0.1 == expected }, "\(actors)")
        #expect(actors.count == 3 && actors.contains { $0.0 == "live-1" && $0.1 == .tests }, "\(actors)")
    }

    @Test func newUsageStagedBetweenReconcileAndApply_makesThePlanStale() throws {
        let world = try Self.world()
        let plan = try world.reconcile()
        try world.stage(world.event("late", credits: "10", at: "2026-11-14T09:00:00Z"))
        #expect(throws: PlanApplier.Refusal.planStale(planID: plan.planID, organisations: ["met"])) { try world.apply() }
        #expect(try world.reconcile().items == ["deduction": 3])
        #expect(try world.apply().transfers == ["deduction": 3])
    }
}

/// Goal: migration `v3-compact-plans` keeps an existing ledger valid: its ledger digest does not
/// change, the stored plan items are dropped, and a plan made (not applied) by the previous version
/// is refused as stale and replaced by reconcile.
@Suite struct CompactPlanMigrationTests {
    @Test func migration_dropsStoredItems_keepsTheDigest_andReplacesAnOldPlan() throws {
        let world = try ReconcileWorld()
        try world.observe(world.order("o1", state: "completed"))
        _ = try world.reconcile()
        _ = try world.apply()
        try world.observe(world.order("o2", state: "completed", updated: "2026-11-11T12:00:00Z"))
        _ = try world.reconcile()
        // The database as the previous version left it: items stored with the plans, no seal.
        try world.ledger.write { tx in
            try tx.db.execute(sql: """
                DROP TABLE reconcile_plan_totals;
                ALTER TABLE reconcile_plans DROP COLUMN seal;
                ALTER TABLE reconcile_plans DROP COLUMN aged_after_days;
                CREATE TABLE reconcile_plan_items (
                    plan_id INTEGER NOT NULL REFERENCES reconcile_plans(id), seq INTEGER NOT NULL,
                    kind TEXT NOT NULL, organisation_id TEXT NOT NULL, idempotency_key TEXT NOT NULL,
                    payload TEXT NOT NULL, PRIMARY KEY (plan_id, seq)) STRICT, WITHOUT ROWID;
                INSERT INTO reconcile_plan_items VALUES (2, 0, 'top_up', 'met', 'top-up:revolut:o2', '["plan-item/2"]');
                DELETE FROM grdb_migrations WHERE identifier = 'v3-compact-plans';
                """)
        }
        let before = try world.verify()
        #expect(before.passed)

        // `credits init` on the old database.
        let migrated = try LedgerDatabase.create(at: world.directory.file("ledger.sqlite"), clock: world.clock.provider)
        let after = try migrated.read { try $0.verify() }
        #expect(after.passed && after.digest == before.digest, "the ledger digest does not change on init")
        #expect(try migrated.read { try $0.db.tableExists("reconcile_plan_items") } == false)
        #expect(try migrated.read { try $0.db.tableExists("reconcile_plan_totals") })

        #expect(throws: PlanApplier.Refusal.planFromEarlierVersion(planID: 2)) { try PlanApplier.apply(migrated) }
        let fresh = try Reconciler.reconcile(migrated, options: .init(asOf: instant("2026-11-20T00:00:00Z")))
        #expect(fresh.newPlan && fresh.items == ["top_up": 1])
        #expect(try PlanApplier.apply(migrated).status == .applied)
        #expect(try migrated.read { try $0.balance(of: "met").available } == Credits(20_000))
    }
}
