import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Reconcile

/// Budgets in the nightly plan (issue 18). Goal: a hard budget turns the events that would pass it
/// into one `budgetExceeded` finding per blocking budget and leaves them staged (never a silent
/// charge); a soft budget charges and flags (`budgetSoftExceeded`, severity info); the plan's digest
/// is what apply posts, run after run.
@Suite struct BudgetPlanTests {
    static func world() throws -> ReconcileWorld {
        var met = SampleWorld.organisation("met")
        met.teams.append(Team(id: "collection", name: "Collection"))
        met.budgets = [
            Budget(scope: .team, scopeID: "analysis", limit: Credits(2_500), period: .month, mode: .hard),
            Budget(scope: .investigation, scopeID: "op-routine", limit: Credits(2_000), period: .month, mode: .soft),
        ]
        let world = try ReconcileWorld(organisations: [met])
        _ = try world.ledger.write { tx in
            try tx.grant(GrantRequest(idempotencyKey: "g", organisationID: "met", source: .topUp, credits: Credits(50_000),
                                      effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        return world
    }

    @Test func plan_turnsUsagePastAHardBudgetIntoAFinding_andSoftOnesIntoFlags() throws {
        let world = try Self.world()
        try world.stage(
            world.event("r-1", credits: "1500", at: "2026-11-12T09:00:00Z"),
            world.event("r-2", credits: "800", at: "2026-11-12T10:00:00Z"),  // past the soft 2,000 of op-routine
            world.event("r-3", credits: "300", at: "2026-11-12T11:00:00Z"),  // 2,600 > the team's hard 2,500
            world.event("u-1", credits: "150", investigation: "op-urgent", at: "2026-11-12T12:00:00Z"),
            world.event("dec", credits: "900", at: "2026-12-02T09:00:00Z"))  // December: a new period
        let plan = try world.reconcile(asOf: "2026-12-03T00:00:00Z")
        #expect(plan.items == ["deduction": 4], "r-3 is not charged")
        let exceeded = plan.exceptions.filter { $0.code == .budgetExceeded }
        #expect(exceeded.map(\.subject) == ["team:analysis"])
        #expect(exceeded.first?.detail.contains("budget_exceeded") == true)
        #expect(plan.findings["info"] == 1, "one budgetSoftExceeded flag: \(plan.findings)")
        let applied = try world.apply()
        #expect(applied.status == .applied, "the plan's digest is what apply posts")
        #expect(try world.balance() == Credits(50_000 - 1_500 - 800 - 150 - 900))
        // Still staged and refused again the next night: the same finding, the same digest for the same inputs.
        let again = try world.reconcile(asOf: "2026-12-03T00:00:00Z")
        #expect(again.items.isEmpty && again.exceptions.map(\.code) == [.budgetExceeded])
        let twice = try world.reconcile(asOf: "2026-12-03T00:00:00Z")
        #expect(twice.digest == again.digest)
        #expect(try world.verify().passed)
    }
}
