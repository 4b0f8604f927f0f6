import Foundation
import Ledger
import Reports
import Testing
import TestSupport

/// Goal (issue 15, D6): usage charged in overdraft and later settled by a grant costs what that
/// grant's credits cost, in the summary, the breakdowns and the daily trend, and the report still
/// ties out: closing money is the unspent value of the grants, never positive on negative credits.
@Suite("consumption money includes settled overdraft")
struct SettledOverdraftTests {
    static let period = ReportPeriod.month(year: 2026, month: 11)

    /// `o` (overdraft limit 100) uses 10 credits with nothing granted, then buys 100 credits for
    /// GBP 10.00: the grant settles the 10 first, at 0.10 each.
    static func ledger(_ directory: TemporaryDirectory, buy: Bool = true) throws -> LedgerDatabase {
        let database = try SampleWorld.ledger(
            in: directory, organisations: [SampleWorld.organisation("o", overdraft: credits("100"))])
        try database.write { tx in
            _ = try tx.spend(SpendRequest(
                idempotencyKey: "use", organisationID: "o", credits: credits("10"),
                effectiveAt: instant("2026-11-02T10:00:00Z"), priority: .p3, policy: .allowOverdraft(limit: credits("100")),
                references: TransferReferences(costEventID: "ev-1", team: "analysis", investigation: "op-routine",
                                               operation: "ocr")))
            if buy {
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: "buy", organisationID: "o", source: .topUp, credits: credits("100"),
                    price: Money(minorUnits: 1000, currency: .gbp), effectiveAt: instant("2026-11-05T12:00:00Z")))
            }
        }
        return database
    }

    static func report(_ database: LedgerDatabase) throws -> PeriodReport {
        try database.read { reader in
            try PeriodReportQuery.report(
                reader, period: period, organisations: try PeriodReportQuery.organisations(reader, ids: nil),
                generatedAt: instant("2026-12-01T02:00:00Z"))
        }
    }

    @Test("use 10 in overdraft, then buy 100 for 10.00: consumption costs 1.00, closing 90 credits worth 9.00")
    func settledOverdraftCostsWhatTheGrantCost() throws {
        let database = try Self.ledger(TemporaryDirectory("settled-overdraft"))
        let report = try Self.report(database)
        let summary = try #require(report.summary.first)
        #expect(summary.tiesOut)
        #expect(summary.consumption.credits == credits("10"))
        #expect(summary.consumption.money == Money(minorUnits: 100, currency: .gbp))
        #expect(summary.topUps.money == Money(minorUnits: 1000, currency: .gbp))
        #expect(summary.closing.credits == credits("90"))
        #expect(summary.closing.money == Money(minorUnits: 900, currency: .gbp))
        // Every breakdown sums exactly to the organisation's consumption, in credits and money.
        #expect(report.byTeam.map(\.consumption.money.minorUnits) == [100])
        #expect(report.byInvestigation.map(\.consumption.money.minorUnits) == [100])
        #expect(report.byOperation.map(\.consumption.money.minorUnits) == [100])
        #expect(report.dailyTrend.reduce(0) { $0 + $1.consumption.money.minorUnits } == 100)
        // The transfer list shows the deduction at what it cost.
        var deductionCost: Int64?
        try database.read { reader in
            let details = try PeriodReportQuery.details(
                reader, period: Self.period, organisations: try PeriodReportQuery.organisations(reader, ids: nil))
            try details.forEach { detail in
                if detail.kind == .deduction { deductionCost = detail.cost?.minorUnits }
            }
        }
        #expect(deductionCost == 100)
        let verify = try database.read { try $0.verify() }
        #expect(verify.passed, "\(verify.checks.filter { !$0.passed })")
    }

    @Test("before a grant settles it, overdraft usage costs nothing and closing money is zero")
    func unsettledOverdraftCostsNothingYet() throws {
        let database = try Self.ledger(TemporaryDirectory("unsettled-overdraft"), buy: false)
        let summary = try #require(try Self.report(database).summary.first)
        #expect(summary.tiesOut)
        #expect(summary.consumption.money.minorUnits == 0)
        #expect(summary.closing.credits == credits("-10"))
        #expect(summary.closing.money.minorUnits == 0)
    }
}
