import Foundation
import Ledger
import Reports
import Testing
import TestSupport

@Suite("unusual consumption")
struct UnusualConsumptionTests {
    @Test("a day at 3x its 28-day baseline and over 100 credits is flagged; noise and new teams are not")
    func flagsByTheRule() throws {
        let directory = TemporaryDirectory("reports")
        let database = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("a")])
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "alloc", organisationID: "a", source: .allocation, credits: credits("100000"),
                price: Money(minorUnits: 450_000, currency: .gbp), effectiveAt: instant("2026-09-01T00:00:00Z")))
            var uses: [(String, String, String?, String)] = (4...31).map {
                ("2026-10-\($0 < 10 ? "0" : "")\($0)T12:00:00Z", "analysis", "op-urgent", "10")
            }
            uses += [
                ("2026-11-03T12:00:00Z", "analysis", "op-urgent", "500"),  // 50x: flagged twice
                ("2026-11-04T12:00:00Z", "analysis", nil, "25"),  // 2.5x and under 100: not flagged
                ("2026-11-05T12:00:00Z", "brand-new", nil, "1000"),  // no baseline: not flagged
                ("2026-09-30T12:00:00Z", "analysis", nil, "10000"),  // before the baseline window
            ]
            for (index, use) in uses.enumerated() {
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: "use-\(index)", organisationID: "a", credits: credits(use.3),
                    effectiveAt: instant(use.0), priority: .p1, policy: .allowOverdraft(limit: .zero),
                    references: TransferReferences(team: use.1, investigation: use.2, operation: "ocr")))
            }
        }
        let rows = try database.read { reader in
            try PeriodReportQuery.unusualConsumption(
                reader, period: .month(year: 2026, month: 11), organisation: try reader.organisation("a")!)
        }
        let day = LocalDate(year: 2026, month: 11, day: 3)!
        #expect(rows == [
            UnusualConsumption(organisationID: "a", scope: "investigation", name: "op-urgent", date: day,
                               consumption: credits("500"), baseline: credits("10"),
                               ratio: ExactDecimal(significand: 5000, scale: 2)),
            UnusualConsumption(organisationID: "a", scope: "team", name: "analysis", date: day,
                               consumption: credits("500"), baseline: credits("10"),
                               ratio: ExactDecimal(significand: 5000, scale: 2)),
        ])
    }
}
