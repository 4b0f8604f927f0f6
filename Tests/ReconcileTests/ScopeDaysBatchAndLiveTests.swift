import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// The usage per scope and local day that budgets measure (`scope_spend_days`, `ScopeUse`) comes out
/// the same however usage was charged: by apply in runs or by the live path one event at a time; it is
/// kept only for scopes a budget measures; and a budget added after the usage (by `init` or the admin
/// mutation, or removed and added again) starts from the period's true use.
@Suite struct ScopeDaysBatchAndLiveTests {
    /// Random events over several local days of New York (so local days differ from UTC ones), teams,
    /// and investigations with and without one.
    static func events(_ world: ReconcileWorld, random: inout SeededRandom, count: Int = 300, prefix: String = "e")
        -> [StagedCostEvent]
    {
        (0..<count).map { index in
            let at = instant("2026-11-11T00:00:00Z").adding(milliseconds: Int64(random.next() % (6 * 86_400_000)))
            var event = world.event(
                "\(prefix)\(index)", credits: "\(1 + random.next() % 40).\(random.next() % 1000)",
                investigation: ["op-routine", "op-urgent", "op-deep", nil][Int(random.next() % 4)], at: at.description)
            event.team = ["analysis", "research", "unknown-team"][Int(random.next() % 3)]
            return event
        }
    }

    /// Soft budgets (they refuse nothing) on the organisation, one team and one investigation.
    static let budgets = [
        Budget(scope: .organisation, scopeID: "met", limit: Credits(3), period: .month, mode: .soft),
        Budget(scope: .team, scopeID: "analysis", limit: Credits(2), period: .month, mode: .soft),
        Budget(scope: .investigation, scopeID: "op-urgent", limit: Credits(1), period: .month, mode: .soft),
    ]

    /// `UsageRunTests.world()`, with `budgets`.
    static func organisation(budgets: [Budget]) -> Organisation {
        var met = SampleWorld.organisation("met", overdraft: .zero)
        met.timeZone = "America/New_York"
        met.teams.append(Team(id: "research", name: "Research"))
        met.investigations.append(
            Investigation(id: "op-deep", name: "Deep", teamID: "research", priority: .p2, status: .open))
        met.budgets = budgets.isEmpty ? nil : budgets
        return met
    }

    static func world(budgeted: Bool) throws -> ReconcileWorld {
        try ReconcileWorld(organisations: [organisation(budgets: budgeted ? budgets : [])])
    }

    static func scopeDays(_ world: ReconcileWorld) throws -> [[String]] {
        try world.ledger.read { reader in
            try Row.fetchAll(
                reader.db, sql: "SELECT organisation_id, scope, scope_id, day, credits FROM scope_spend_days ORDER BY 1, 2, 3, 4"
            ).map { row in [row[0], row[1], row[2], String(row[3] as Int64), String(row[4] as Int64)] }
        }
    }

    /// Charges `events` as `POST /v1/usage` would, one transaction each, in posting order.
    static func chargeLive(_ events: [StagedCostEvent], in world: ReconcileWorld) throws {
        for event in events.sorted(by: { ($0.occurredAt, $0.eventID) < ($1.occurredAt, $1.eventID) }) {
            _ = try world.ledger.write { tx in
                try tx.spend(SpendRequest(
                    idempotencyKey: IdempotencyKey.deduction(costEventID: event.eventID), organisationID: "met",
                    credits: event.credits, effectiveAt: event.occurredAt, priority: .p3,
                    policy: .allowOverdraft(limit: .zero),
                    references: TransferReferences(costEventID: event.eventID, team: event.team,
                                                   investigation: event.investigation, operation: event.operation)))
            }
        }
    }

    /// Packs bought, then `events` staged, reconciled and applied (charged in runs).
    static func chargeInBatch(_ events: [StagedCostEvent], in world: ReconcileWorld) throws {
        for pack in ["p1", "p2", "p3"] { try UsageRunTests.buyPack(world, id: pack, at: "2026-11-10T12:00:00Z") }
        _ = try world.ledger.write { try $0.stage(events) }
        _ = try world.reconcile(asOf: "2026-11-20T00:00:00Z")
        _ = try world.apply()
        let runs = try world.ledger.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(DISTINCT transfer_id) FROM usage_charges") }
        #expect((runs ?? 0) >= 6, "the batch charged in runs, one or more per local day")
    }

    @Test(arguments: [false, true])
    func appliedRuns_leaveTheScopeDaysTheLivePathLeaves(budgeted: Bool) throws {
        var random = SeededRandom(label: "ScopeDaysBatchAndLiveTests.\(budgeted)")
        let batch = try Self.world(budgeted: budgeted)
        let live = try Self.world(budgeted: budgeted)
        let events = Self.events(batch, random: &random)
        for pack in ["p1", "p2", "p3"] { try UsageRunTests.buyPack(live, id: pack, at: "2026-11-10T12:00:00Z") }
        _ = try live.ledger.write { try $0.stage(events) }
        // The live world credits its packs first (nothing else is due before its events), then takes
        // every event as `POST /v1/usage` would.
        _ = try live.reconcile(asOf: "2026-11-11T00:00:00Z")
        _ = try live.apply()
        try Self.chargeLive(events, in: live)
        try Self.chargeInBatch(events, in: batch)
        let expected = try Self.scopeDays(live)
        #expect(try Self.scopeDays(batch) == expected)
        if budgeted {
            #expect(Set(expected.map { "\($0[1]):\($0[2])" }) == ["organisation:met", "team:analysis", "investigation:op-urgent"],
                    "the measured scopes only")
            #expect(expected.count > 15)
        } else {
            #expect(expected.isEmpty, "no budget, nothing kept")
        }
        #expect(try batch.verify().passed)
    }

    @Test func aBudgetAddedAfterTheUsage_startsFromThePeriodsTrueUse() throws {
        var random = SeededRandom(label: "ScopeDaysBatchAndLiveTests.later")
        let measured = try Self.world(budgeted: true)
        let later = try Self.world(budgeted: false)
        let night = Self.events(later, random: &random)
        let live = Self.events(later, random: &random, count: 40, prefix: "live-")
        for world in [measured, later] {
            try Self.chargeInBatch(night, in: world)
            try Self.chargeLive(live, in: world)
        }
        #expect(try Self.scopeDays(later).isEmpty)
        let expected = try Self.scopeDays(measured)
        #expect(expected.count > 15)

        // The organisation's budget by `init` (a configuration replacing the budgets), the team's and the
        // investigation's by the admin mutation; the team's then removed, more usage, and added again.
        var configuration = SampleWorld.configuration([Self.organisation(budgets: [Self.budgets[0]])])
        configuration.plans = [ReconcileWorld.monthly, ReconcileWorld.annual]
        configuration.packages = [ReconcileWorld.pack]
        _ = try later.ledger.write { try $0.load(configuration) }
        let admin = ConfigurationChangeAttribution(actor: "operator:test", idempotencyKey: nil)
        func set(_ budget: Budget?, on scope: SpendScope, in world: ReconcileWorld) throws {
            _ = try world.ledger.write { try $0.setBudget(organisationID: "met", scope: scope, budget: budget, by: admin) }
        }
        for budget in Self.budgets[1...] { try set(budget, on: budget.spendScope, in: later) }
        #expect(try Self.scopeDays(later) == expected)

        let team = Self.budgets[1]
        try set(nil, on: team.spendScope, in: later)
        let more = Self.events(later, random: &random, count: 40, prefix: "more-")
        for world in [measured, later] { try Self.chargeLive(more, in: world) }
        try set(team, on: team.spendScope, in: later)
        let after = try Self.scopeDays(measured)
        #expect(after != expected, "the later usage counts")
        #expect(try Self.scopeDays(later) == after)
        // And the rule reads them: both worlds see the same standing of each budget.
        for budget in Self.budgets {
            let days = LocalDate.parse("2026-11-01")!.daysSinceEpoch..<LocalDate.parse("2026-12-01")!.daysSinceEpoch
            let use = try [measured, later].map { world in
                try world.ledger.read { try $0.budgetUse(of: "met", scope: budget.spendScope, days: days) }
            }
            #expect(use[0] == use[1] && use[0].isPositive, "\(budget.key): \(use)")
        }
    }
}
