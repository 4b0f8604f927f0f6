import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger
@testable import Reconcile
import Reports

/// Goal (issue 13): apply charges a night's usage in runs (`UsageRun`): one deduction per
/// organisation's consecutive events of one local day, one `usage_charges` row per event, with the
/// same outcome as charging event by event. Each event is charged exactly once (by the schema), the
/// runs sum to their charges (`verify`), a run never spans two local days, usage beyond every grant
/// posts alone, and attribution per team, investigation, operation and day sums exactly to the
/// organisation's consumption.
@Suite struct UsageRunTests {
    /// `met` in New York (local midnight is 05:00Z in November), 10,000 credits bought on 1 November.
    static func world(overdraft: Credits = .zero, timeZone: String = "America/New_York") throws -> ReconcileWorld {
        var met = SampleWorld.organisation("met", overdraft: overdraft)
        met.timeZone = timeZone
        met.teams.append(Team(id: "research", name: "Research"))
        met.investigations.append(
            Investigation(id: "op-deep", name: "Deep", teamID: "research", priority: .p2, status: .open))
        return try ReconcileWorld(organisations: [met])
    }

    static func buyPack(_ world: ReconcileWorld, id: String, at: String) throws {
        try world.observe(world.order(id, state: "completed", updated: at))
    }

    func deductions(_ world: ReconcileWorld) throws -> [(id: Int64, amount: Int64, costEventID: String?, charges: Int)] {
        try world.ledger.read { reader in
            try Row.fetchAll(reader.db, sql: """
                SELECT t.id, t.amount, t.cost_event_id, (SELECT COUNT(*) FROM usage_charges c WHERE c.transfer_id = t.id)
                FROM transfers t WHERE t.kind = 'deduction' ORDER BY t.id
                """).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    @Test func aNightOfUsage_isChargedInRunsSplitByDay_notByTopUps() throws {
        let world = try Self.world()
        try Self.buyPack(world, id: "first", at: "2026-11-10T12:00:00Z")
        // Day 1 (local 11 Nov): 10 events. Day 2 (local 12 Nov): 10 events, a top-up at 15:00Z in the middle.
        var events: [StagedCostEvent] = []
        for index in 0..<10 {
            events.append(world.event("d1-\(index)", credits: "10", at: "2026-11-11T1\(index):00:00Z"))
            events.append(world.event("d2-\(index)", credits: "20", investigation: index.isMultiple(of: 2) ? "op-deep" : nil,
                                      at: "2026-11-12T1\(index):30:00Z"))
        }
        _ = try world.ledger.write { try $0.stage(events) }
        try Self.buyPack(world, id: "second", at: "2026-11-12T15:00:00Z")
        _ = try world.reconcile()
        let applied = try world.apply()
        #expect(applied.transfers["deduction"] == 20, "the plan still counts one deduction per event")

        let runs = try deductions(world)
        // Day 1 whole; day 2 whole: the top-up at 15:00Z does not split it (it only adds a grant).
        #expect(runs.map(\.charges) == [10, 10])
        #expect(runs.map(\.amount) == [100, 200].map { Credits($0).microcredits })
        #expect(runs.allSatisfy { $0.costEventID == nil })
        for event in events {
            #expect(try world.ledger.read { try $0.deductionCharging(costEventID: event.eventID) } != nil, "\(event.eventID)")
        }
        #expect(try world.balance() == Credits(20_000 - 300))
        let report = try world.verify()
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")

        // The detail export shows each event as its own row: its run's transfer, the event's credits,
        // cost and attribution, and the balance before and after it, chained through the month.
        let met = try #require(try world.ledger.read { try $0.organisation("met") })
        var rows: [TransferDetail] = []
        let count = try world.ledger.read { reader in
            let stream = try PeriodReportQuery.details(reader, period: .month(year: 2026, month: 11), organisations: [met])
            try stream.forEach { rows.append($0) }
            return stream.count
        }
        let usage = rows.filter { $0.kind == .deduction }
        #expect(count == rows.count)
        #expect(usage.count == 20)
        #expect(Set(usage.compactMap(\.costEventID)) == Set(events.map(\.eventID)))
        #expect(usage.reduce(0) { $0 + $1.credits.microcredits } == Credits(300).microcredits)
        #expect(usage.filter { $0.investigation == "op-deep" }.count == 5)
        for (previous, next) in zip(rows, rows.dropFirst()) {
            #expect(previous.balanceAfter == next.balanceBefore, "\(previous.costEventID ?? "") -> \(next.costEventID ?? "")")
        }

        // A rerun charges nothing more, and its plan is empty.
        let rerun = try world.reconcile()
        #expect(rerun.items["deduction"] == nil)
        #expect(try deductions(world).count == 2)
    }

    /// A run open across a top-up draws on the new grant once the old one is spent: one deduction
    /// with a draw from each grant, each costing its grant's share, and the ledger verifies.
    @Test func aRunOpenAcrossATopUp_drawsOnTheNewGrant() throws {
        let world = try Self.world()
        try Self.buyPack(world, id: "first", at: "2026-11-10T12:00:00Z")
        let events = (0..<10).map { index in
            world.event("e\(index)", credits: "2000", at: "2026-11-12T1\(index):30:00Z")
        }
        _ = try world.ledger.write { try $0.stage(events) }
        // After the fifth event (14:30Z) the first 10,000 credits are spent.
        try Self.buyPack(world, id: "second", at: "2026-11-12T15:00:00Z")
        _ = try world.reconcile()
        _ = try world.apply()

        let runs = try deductions(world)
        #expect(runs.map(\.charges) == [10], "one run for the day, across the top-up")
        let draws = try world.ledger.read { reader in
            try Row.fetchAll(reader.db, sql: """
                SELECT g.transfer_id, d.credits, d.cost_minor FROM grant_draws d JOIN grants g ON g.id = d.grant_id
                WHERE d.transfer_id = ? ORDER BY g.id
                """, arguments: [runs[0].id]).map { (transfer: $0[0] as Int64, credits: $0[1] as Int64, cost: $0[2] as Int64) }
        }
        #expect(draws.map(\.credits) == [Credits(10_000).microcredits, Credits(10_000).microcredits])
        #expect(draws.map(\.cost) == [45_000, 45_000], "each grant's whole price: both are spent")
        #expect(draws[1].transfer < runs[0].id, "the top-up posted before the run that drew on it")
        #expect(try world.balance() == .zero)
        let report = try world.verify()
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")
    }

    /// A run's charges are written `ChunkedInsert.rowsMax` to a statement, the rest in statements of 32, 16,
    /// ..., 1 rows: a run of two full statements and a remainder of every smaller size (127 = 64 + 32 + ... +
    /// 1) still has one charge per event, each its event's own.
    @Test func aLongRun_hasEveryChargeItsEventsOwn() throws {
        let world = try Self.world()
        try Self.buyPack(world, id: "first", at: "2026-11-10T12:00:00Z")
        let count = 3 * ChunkedInsert.rowsMax - 1
        let events = (0..<count).map { index in
            world.event("long-\(index)", credits: "\(1 + index % 9).5", investigation: index.isMultiple(of: 3) ? "op-deep" : nil,
                        at: instant("2026-11-11T06:00:00Z").adding(milliseconds: Int64(index) * 60_000).description)
        }
        _ = try world.ledger.write { try $0.stage(events) }
        _ = try world.reconcile()
        _ = try world.apply()
        let runs = try deductions(world)
        #expect(runs.map(\.charges) == [count])
        let charged = try world.ledger.read { reader in
            try Row.fetchAll(reader.db, sql: "SELECT event_id, credits, investigation FROM usage_charges ORDER BY event_id")
                .map { "\($0[0] as String) \($0[1] as Int64) \(($0[2] as String?) ?? "-")" }
        }
        #expect(charged == events.sorted { $0.eventID < $1.eventID }
            .map { "\($0.eventID) \($0.credits.microcredits) \($0.investigation ?? "-")" })
        #expect(try world.verify().passed)
    }

    @Test func aRun_neverSpansTwoLocalDays() throws {
        let world = try Self.world()
        try Self.buyPack(world, id: "first", at: "2026-11-10T12:00:00Z")
        // 03:00Z and 04:59Z are 10 November in New York; 05:00Z is 11 November.
        try world.stage(
            world.event("late-1", credits: "1", at: "2026-11-11T03:00:00Z"),
            world.event("late-2", credits: "2", at: "2026-11-11T04:59:59Z"),
            world.event("early-1", credits: "4", at: "2026-11-11T05:00:00Z"))
        _ = try world.reconcile()
        _ = try world.apply()
        let runs = try deductions(world)
        #expect(runs.map(\.charges) == [2, 1])
        let effective = try world.ledger.read { reader in
            try Int64.fetchAll(reader.db, sql: "SELECT effective_at FROM transfers WHERE kind = 'deduction' ORDER BY id")
        }
        // Each run is effective at its latest event, inside its day.
        #expect(effective == [instant("2026-11-11T04:59:59Z"), instant("2026-11-11T05:00:00Z")].map(\.millisecondsSinceEpoch))
    }

    @Test func usageBeyondEveryGrant_postsAloneAndIsSettledLater() throws {
        let world = try Self.world(overdraft: Credits(1_000))
        try world.stage(
            world.event("over-1", credits: "30", at: "2026-11-11T10:00:00Z"),
            world.event("over-2", credits: "20", at: "2026-11-11T11:00:00Z"))
        try Self.buyPack(world, id: "settles", at: "2026-11-11T12:00:00Z")
        try world.stage(
            world.event("covered-1", credits: "5", at: "2026-11-11T13:00:00Z"),
            world.event("covered-2", credits: "5", at: "2026-11-11T14:00:00Z"))
        let plan = try world.reconcile()
        #expect(plan.exceptions.map(\.code).contains(.usageInOverdraft))
        _ = try world.apply()
        let runs = try deductions(world)
        #expect(runs.map(\.costEventID) == ["over-1", "over-2", nil])
        #expect(runs.map(\.charges) == [0, 0, 2])
        #expect(try world.balance() == Credits(10_000 - 60))
        let report = try world.verify()
        #expect(report.passed, "\(report.checks.filter { !$0.passed })")
    }

    @Test func anEventIsChargedOnce_bySchema() throws {
        let world = try Self.world()
        try Self.buyPack(world, id: "first", at: "2026-11-10T12:00:00Z")
        try world.stage(world.event("once", credits: "10", at: "2026-11-11T10:00:00Z"))
        _ = try world.reconcile()
        _ = try world.apply()
        let runID = try #require(try world.ledger.read { try $0.deductionCharging(costEventID: "once") })
        // A second charge of the event, by another run or by a deduction of its own, fails in the schema.
        #expect(throws: StorageError.self) {
            try world.ledger.write { tx in
                try tx.db.execute(sql: "INSERT INTO usage_charges VALUES (?, 'once', 0, 'analysis', NULL, 'ocr', 10000000, 0)", arguments: [runID])
            }
        }
        let refusal = #expect(throws: StorageError.self) {
            try world.ledger.write { tx in
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: IdempotencyKey.deduction(costEventID: "once"), organisationID: "met",
                    credits: Credits(10), effectiveAt: instant("2026-11-11T10:00:00Z"), priority: .p3,
                    policy: .withinSpendable, references: TransferReferences(costEventID: "once")))
            }
        }
        #expect("\(refusal.map { "\($0)" } ?? "")".contains("already charged by a usage run"))
        #expect(try world.balance() == Credits(10_000 - 10))
    }

    /// The checks that fail after `sql` runs on an applied night with the append-only triggers dropped,
    /// as an attacker with SQL access would.
    func failedChecks(afterTampering sql: String) throws -> [String] {
        let world = try Self.world()
        try Self.buyPack(world, id: "first", at: "2026-11-10T12:00:00Z")
        try world.stage(
            world.event("a", credits: "10", at: "2026-11-11T10:00:00Z"),
            world.event("b", credits: "15", at: "2026-11-11T11:00:00Z"))
        _ = try world.reconcile()
        _ = try world.apply()
        try world.ledger.write { tx in
            try tx.db.execute(sql: """
                DROP TRIGGER usage_charges_are_append_only_update;
                DROP TRIGGER usage_charges_are_append_only_delete;
                \(sql)
                """)
        }
        return try world.verify().checks.filter { !$0.passed }.map(\.name)
    }

    @Test func aTamperedCharge_failsVerify() throws {
        #expect(try failedChecks(afterTampering: "UPDATE usage_charges SET credits = credits + 1 WHERE event_id = 'a'")
            .contains("usageRunsSumToTheirCharges"))
        #expect(try failedChecks(afterTampering: "UPDATE usage_charges SET cost_minor = cost_minor + 1 WHERE event_id = 'b'")
            .contains("usageRunsSumToTheirCharges"))
        #expect(try failedChecks(afterTampering: "UPDATE usage_charges SET team = 'research' WHERE event_id = 'a'")
            .contains("usageRunsSumToTheirCharges"))
        #expect(try failedChecks(afterTampering: "DELETE FROM usage_charges WHERE event_id = 'a'")
            .contains("usageRunsSumToTheirCharges"))
        #expect(try failedChecks(afterTampering: "SELECT 1").contains("transfersAppendOnly"))
    }

    /// Randomised nights: per team, investigation, operation and day, consumption credits and money sum
    /// exactly to the organisation's deduction flow; and each run's charges to the run.
    @Test func attribution_tiesOutExactly() throws {
        var random = SeededRandom(label: "UsageRunTests.attribution")
        for _ in 0..<3 {
            let world = try Self.world()
            var staged: [StagedCostEvent] = []
            var orders = 0
            for index in 0..<300 {
                let at = instant("2026-11-11T00:00:00Z").adding(milliseconds: Int64(random.next() % (5 * 86_400_000)))
                if random.next() % 40 == 0 {
                    orders += 1
                    try world.observe(world.order("o\(orders)", state: "completed", updated: at.description))
                }
                var event = world.event(
                    "e\(index)", credits: "\(1 + random.next() % 90).\(random.next() % 1000)",
                    investigation: ["op-routine", "op-urgent", "op-deep", nil][Int(random.next() % 4)], at: at.description)
                event.team = event.investigation == "op-deep" ? "research" : "analysis"
                event.operation = ["llm.completion", "ocr", "transcription"][Int(random.next() % 3)]
                staged.append(event)
            }
            // Three packs before the first event, so no random night (up to ~27,000 credits of usage)
            // passes the overdraft limit and leaves events uncharged: every event is in the sums.
            for pack in ["p1", "p2", "p3"] {
                try world.observe(world.order(pack, state: "completed", updated: "2026-11-10T12:00:00Z"))
            }
            _ = try world.ledger.write { try $0.stage(staged) }
            _ = try world.reconcile()
            _ = try world.apply()
            #expect(try world.verify().passed)
            let window = ReportWindow(start: instant("2026-11-01T00:00:00Z"), end: instant("2026-12-01T00:00:00Z"))
            try world.ledger.read { reader in
                let flow = try #require(try reader.netFlows(of: "met", currency: .gbp, in: window)[.deduction])
                for dimension in ConsumptionDimension.allCases {
                    let groups = try reader.consumption(of: "met", currency: .gbp, in: window, by: dimension)
                    #expect(groups.reduce(0) { $0 + $1.credits.microcredits } == -flow.credits.microcredits, "\(dimension)")
                    #expect(groups.reduce(0) { $0 + $1.money.minorUnits } == -flow.money.minorUnits, "\(dimension)")
                    #expect(groups.reduce(0) { $0 + $1.eventCount } == 300, "\(dimension)")
                }
                let days = (0..<30).map { instant("2026-11-01T05:00:00Z").adding(days: $0) }
                let daily = try reader.dailyConsumption(
                    of: "met", currency: .gbp, days: days, end: instant("2026-12-01T05:00:00Z"))
                #expect(daily.reduce(0) { $0 + $1.money.minorUnits } == -flow.money.minorUnits)
                let pairs = try reader.consumption(of: "met", currency: .gbp, in: window, by: .team, then: .investigation)
                #expect(pairs.reduce(0) { $0 + $1.group.money.minorUnits } == -flow.money.minorUnits)
                #expect(flow.money.minorUnits < 0, "usage costs money")
            }
        }
    }
}
