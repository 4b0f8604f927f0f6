import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile

/// The usage per scope and local day that budgets measure (`scope_spend_days`) comes out the same
/// however usage was charged: by apply in runs, with or without a budget on the organisation, or by
/// the live path one event at a time. (Writing an unbudgeted organisation's scope days from its runs
/// in one statement at the end of apply was tried against this test on 2026-12-06: the same rows, but
/// no faster at 1M events, so apply still adds them event by event.)
@Suite struct ScopeDaysBatchAndLiveTests {
    /// Random events over several local days of New York (so local days differ from UTC ones), teams,
    /// and investigations with and without one.
    static func events(_ world: ReconcileWorld, random: inout SeededRandom) -> [StagedCostEvent] {
        (0..<300).map { index in
            let at = instant("2026-11-11T00:00:00Z").adding(milliseconds: Int64(random.next() % (6 * 86_400_000)))
            var event = world.event(
                "e\(index)", credits: "\(1 + random.next() % 40).\(random.next() % 1000)",
                investigation: ["op-routine", "op-urgent", "op-deep", nil][Int(random.next() % 4)], at: at.description)
            event.team = ["analysis", "research", "unknown-team"][Int(random.next() % 3)]
            return event
        }
    }

    /// `UsageRunTests.world()`, and when `budgeted` a soft budget on a team: it makes the walk keep
    /// the organisation's scope days as it goes, and refuses nothing.
    static func world(budgeted: Bool) throws -> ReconcileWorld {
        var met = SampleWorld.organisation("met", overdraft: .zero)
        met.timeZone = "America/New_York"
        met.teams.append(Team(id: "research", name: "Research"))
        met.investigations.append(
            Investigation(id: "op-deep", name: "Deep", teamID: "research", priority: .p2, status: .open))
        if budgeted {
            met.budgets = [Budget(scope: .team, scopeID: "analysis", limit: Credits(1), period: .month, mode: .soft)]
        }
        return try ReconcileWorld(organisations: [met])
    }

    static func scopeDays(_ world: ReconcileWorld) throws -> [[String]] {
        try world.ledger.read { reader in
            try Row.fetchAll(
                reader.db, sql: "SELECT organisation_id, scope, scope_id, day, credits FROM scope_spend_days ORDER BY 1, 2, 3, 4"
            ).map { row in [row[0], row[1], row[2], String(row[3] as Int64), String(row[4] as Int64)] }
        }
    }

    @Test(arguments: [false, true])
    func appliedRuns_leaveTheScopeDaysTheLivePathLeaves(budgeted: Bool) throws {
        var random = SeededRandom(label: "ScopeDaysBatchAndLiveTests.\(budgeted)")
        let batch = try Self.world(budgeted: budgeted)
        let live = try Self.world(budgeted: budgeted)
        let events = Self.events(batch, random: &random)
        for world in [batch, live] {
            for pack in ["p1", "p2", "p3"] { try UsageRunTests.buyPack(world, id: pack, at: "2026-11-10T12:00:00Z") }
            _ = try world.ledger.write { try $0.stage(events) }
        }
        // The live world credits its packs first (nothing else is due before its events), then takes
        // every event as `POST /v1/usage` would, one transaction each, in posting order.
        _ = try live.reconcile(asOf: "2026-11-11T00:00:00Z")
        _ = try live.apply()
        for event in events.sorted(by: { ($0.occurredAt, $0.eventID) < ($1.occurredAt, $1.eventID) }) {
            _ = try live.ledger.write { tx in
                try tx.spend(SpendRequest(
                    idempotencyKey: IdempotencyKey.deduction(costEventID: event.eventID), organisationID: "met",
                    credits: event.credits, effectiveAt: event.occurredAt, priority: .p3,
                    policy: .allowOverdraft(limit: .zero),
                    references: TransferReferences(costEventID: event.eventID, team: event.team,
                                                   investigation: event.investigation, operation: event.operation)))
            }
        }
        _ = try batch.reconcile(asOf: "2026-11-20T00:00:00Z")
        _ = try batch.apply()
        let runs = try batch.ledger.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(DISTINCT transfer_id) FROM usage_charges") }
        #expect((runs ?? 0) >= 6, "the batch charged in runs, one or more per local day")
        let expected = try Self.scopeDays(live)
        #expect(expected.count > 20)
        #expect(try Self.scopeDays(batch) == expected)
        #expect(try batch.verify().passed)
    }
}
