import Foundation
import Ledger
import Testing
import TestSupport
@testable import Reports

/// The period report reads an organisation's usage once, per day, team, investigation and operation
/// (`LedgerReader.consumptionCells`), and rolls every breakdown up from those cells. These tests hold
/// the rollup to the ledger's own grouping queries, which group the same usage in SQL one breakdown
/// at a time: the same keys in the same (byte) order, the same event counts, credits and money.
@Suite struct PeriodReportRollupTests {
    /// Randomised months of batch runs and live per-event deductions, with keys that differ only in
    /// their bytes (a precomposed and a decomposed "é"), keys outside ASCII, and a spike the unusual
    /// rule flags.
    @Test func theReportsBreakdowns_equalTheLedgersGrouping() throws {
        var random = SeededRandom(label: "PeriodReportRollupTests.breakdowns")
        let teams = ["analysis", "Zeta", "\u{E9}quipe", "e\u{301}quipe", "\u{C4}rger"]
        let investigations: [String?] = ["op-routine", "op-urgent", "op-deep", nil, "\u{C4}rger"]
        let operations = ["llm.completion", "ocr", "transcription", "\u{E9}t\u{E9}"]
        for night in 0..<3 {
            let world = try UsageRunTests.world()
            for pack in ["p1", "p2", "p3"] { try UsageRunTests.buyPack(world, id: pack, at: "2026-10-01T12:00:00Z") }
            var staged: [StagedCostEvent] = []
            for index in 0..<400 {
                // From 5 October (inside the 28-day baseline of November) to the end of November.
                let at = instant("2026-10-05T00:00:00Z").adding(milliseconds: Int64(random.next() % (56 * 86_400_000)))
                var event = world.event(
                    "e\(index)", credits: "\(1 + random.next() % 40).\(random.next() % 1000)",
                    investigation: investigations[Int(random.next() % UInt64(investigations.count))], at: at.description)
                event.team = teams[Int(random.next() % UInt64(teams.count))]
                event.operation = operations[Int(random.next() % UInt64(operations.count))]
                staged.append(event)
            }
            // A spike far above its team's baseline, so the unusual rule has something to flag.
            var spike = world.event("spike", credits: "900", investigation: "op-urgent", at: "2026-11-17T15:00:00Z")
            spike.team = "Zeta"
            staged.append(spike)
            _ = try world.ledger.write { try $0.stage(staged) }
            _ = try world.reconcile(asOf: "2026-12-01T00:00:00Z")
            _ = try world.apply()
            // Live usage after the night: deductions of their own, not runs.
            try world.ledger.write { tx in
                for index in 0..<60 {
                    let at = instant("2026-11-01T05:00:00Z").adding(milliseconds: Int64(random.next() % (29 * 86_400_000)))
                    _ = try tx.spend(SpendRequest(
                        idempotencyKey: "live-\(index)", organisationID: "met",
                        credits: credits("\(1 + random.next() % 20)"), effectiveAt: at, priority: .p1,
                        policy: .allowOverdraft(limit: .zero),
                        references: TransferReferences(
                            team: teams[Int(random.next() % UInt64(teams.count))],
                            investigation: investigations[Int(random.next() % UInt64(investigations.count))],
                            operation: operations[Int(random.next() % UInt64(operations.count))])))
                }
            }
            try world.ledger.read { reader in
                try Self.expectRollupMatchesTheLedger(reader, night: night)
            }
        }
    }

    static func expectRollupMatchesTheLedger(_ reader: LedgerReader, night: Int) throws {
        let organisation = try #require(try reader.organisation("met"))
        let period = ReportPeriod.month(year: 2026, month: 11)
        let rule = UnusualConsumptionRule()
        let report = try PeriodReportQuery.report(
            reader, period: period, organisations: [organisation], generatedAt: instant("2026-12-02T00:00:00Z"),
            unusualRule: rule)
        let window = try PeriodReportQuery.window(period, for: organisation)
        func groups(_ dimension: ConsumptionDimension) throws -> [[String]] {
            try reader.consumption(of: "met", currency: .gbp, in: window, by: dimension).map {
                [$0.key, "\($0.eventCount)", "\($0.credits)", "\($0.money.minorUnits)"]
            }
        }
        #expect(report.byTeam.map { [$0.team, "\($0.eventCount)", "\($0.consumption.credits)",
                                     "\($0.consumption.money.minorUnits)"] } == (try groups(.team)), "night \(night)")
        #expect(report.byInvestigation.map { [$0.investigation, "\($0.eventCount)", "\($0.consumption.credits)",
                                              "\($0.consumption.money.minorUnits)"] } == (try groups(.investigation)))
        #expect(report.byOperation.map { [$0.operation, "\($0.eventCount)", "\($0.consumption.credits)",
                                          "\($0.consumption.money.minorUnits)"] } == (try groups(.operation)))
        // The two spellings of "équipe" are two teams, as the ledger groups them.
        #expect(report.byTeam.filter { $0.team == "\u{E9}quipe" }.count == 2)

        let zone = try #require(TimeZone(identifier: organisation.timeZone))
        let end = period.lastDay.adding(days: 1).startInstant(in: zone)
        let daily = try reader.dailyConsumption(
            of: "met", currency: .gbp, days: period.days.map { $0.startInstant(in: zone) }, end: end)
        #expect(report.dailyTrend.map(\.date) == period.days)
        #expect(report.dailyTrend.map(\.eventCount) == daily.map(\.eventCount))
        #expect(report.dailyTrend.map(\.consumption) == daily.map { CreditsAndMoney(credits: $0.credits, money: $0.money) })

        // The unusual days, flagged from the ledger's daily groups by the same rule.
        let days = (-rule.baselineDays..<0).map { period.firstDay.adding(days: $0) } + period.days
        var unusual: [UnusualConsumption] = []
        for dimension in [ConsumptionDimension.team, .investigation] {
            let groups = try reader.dailyConsumption(
                of: "met", currency: .gbp, days: days.map { $0.startInstant(in: zone) }, end: end, by: dimension)
            unusual += try PeriodReportQuery.flag(groups, days: days, rule: rule, organisationID: "met",
                                                  scope: dimension.rawValue)
        }
        #expect(!unusual.isEmpty, "the spike is flagged")
        #expect(report.unusualConsumption == unusual.sorted { ($0.date, $0.scope, $0.name) < ($1.date, $1.scope, $1.name) })
    }
}
