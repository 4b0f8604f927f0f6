import Foundation
import Reports
import Testing
import TestSupport

@testable import Ledger

/// Budgets in the period report (issue 18): By team and By investigation end with the scope's budget,
/// used, left and % of its period elapsed, as the budget stands when the report's period closes (or
/// when the report is made, before then). Goal: the figures are the ledger's (`budgetStatuses`), a
/// budgeted scope without consumption still gets its row (zero usage, so sums still tie out), and the
/// XLSX read back holds the numbers as numbers and the dates as dates.
@Suite("budgets in the period report")
struct BudgetReportTests {
    static let period = ReportPeriod.month(year: 2026, month: 11)

    static func ledger(_ directory: TemporaryDirectory) throws -> LedgerDatabase {
        var organisation = SampleWorld.organisation("a")
        organisation.teams.append(Team(id: "collection", name: "Collection"))
        organisation.budgets = [
            Budget(scope: .team, scopeID: "analysis", limit: credits("100"), period: .month, mode: .hard),
            Budget(scope: .team, scopeID: "collection", limit: credits("40"), period: .month, mode: .soft),
            Budget(scope: .investigation, scopeID: "op-urgent", limit: credits("90"),
                   period: .financialYear(startMonth: 4), mode: .hard),
        ]
        let database = try SampleWorld.ledger(in: directory, organisations: [organisation])
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "grant", organisationID: "a", source: .topUp, credits: credits("1000"),
                price: Money(minorUnits: 10000, currency: .gbp), effectiveAt: instant("2026-10-01T00:00:00Z")))
            for (index, spend) in [("2026-10-20T10:00:00Z", "5"), ("2026-11-10T10:00:00Z", "30"),
                                   ("2026-12-02T10:00:00Z", "8")].enumerated() {
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: "spend-\(index)", organisationID: "a", credits: credits(spend.1),
                    effectiveAt: instant(spend.0), priority: .p1, policy: .allowOverdraft(limit: .zero),
                    references: TransferReferences(team: "analysis", investigation: "op-urgent", operation: "ocr")))
            }
        }
        return database
    }

    static func report(_ database: LedgerDatabase, generatedAt: String) throws -> PeriodReport {
        try database.read { reader in
            try PeriodReportQuery.report(reader, period: period, organisations: try PeriodReportQuery.organisations(reader, ids: nil),
                                         generatedAt: instant(generatedAt))
        }
    }

    @Test("a closed month: each budget as the month ended; a budget without use still has its row")
    func closedMonth() throws {
        let directory = TemporaryDirectory("budget-report")
        let report = try Self.report(try Self.ledger(directory), generatedAt: "2026-12-03T02:00:00Z")
        #expect(report.byTeam.map(\.team) == ["analysis", "collection"])
        let analysis = try #require(report.byTeam.first?.budget)
        #expect(analysis.limit == credits("100") && analysis.mode == .hard && analysis.used == credits("30"))
        #expect(analysis.left == credits("70") && analysis.percentOfPeriodElapsed == ExactDecimal(significand: 10_000, scale: 2))
        #expect(analysis.firstDay == LocalDate.parse("2026-11-01") && analysis.lastDay == LocalDate.parse("2026-11-30"))
        let collection = try #require(report.byTeam.last)
        #expect(collection.eventCount == 0 && collection.consumption.credits == .zero)
        #expect(collection.budget?.used == .zero && collection.budget?.left == credits("40"))
        // The financial year from 1 April: October's 5 and November's 30, not December's 8.
        let urgent = try #require(report.byInvestigation.first { $0.investigation == "op-urgent" }?.budget)
        #expect(urgent.used == credits("35") && urgent.left == credits("55"))
        #expect(urgent.firstDay == LocalDate.parse("2026-04-01") && urgent.lastDay == LocalDate.parse("2027-03-31"))
        #expect(report.byInvestigation.allSatisfy { $0.investigation == "op-urgent" || $0.budget == nil })
    }

    @Test("a month not yet over: the budget as it stands when the report is made")
    func openMonth() throws {
        let directory = TemporaryDirectory("budget-report")
        let report = try Self.report(try Self.ledger(directory), generatedAt: "2026-11-16T00:00:00Z")
        let analysis = try #require(report.byTeam.first?.budget)
        #expect(analysis.used == credits("30") && analysis.percentOfPeriodElapsed == ExactDecimal(significand: 5_000, scale: 2))
    }

    @Test("the workbook's By team sheet holds the budget columns as numbers and dates")
    func workbook() throws {
        let directory = TemporaryDirectory("budget-report")
        let report = try Self.report(try Self.ledger(directory), generatedAt: "2026-12-03T02:00:00Z")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let urls = try PeriodReportWriter(baseName: "budgets").write(report, details: nil, to: scratch.url)
        let sheet = try XLSXFile(url: try #require(urls.first { $0.pathExtension == "xlsx" })).sheet("By team")
        // XLSX keeps money in one column (its currency in the number format); the CSV splits it in two.
        let header = sheet.row(1, columns: 12).map { $0?.value }
        #expect(header.suffix(7) == ["Budget credits", "Budget mode", "Budget from", "Budget to", "Budget used credits",
                                     "Budget left credits", "Budget period elapsed %"])
        #expect(sheet["F2"]?.number == 100 && sheet["G2"]?.value == "hard")
        #expect(sheet["J2"]?.number == 30 && sheet["K2"]?.number == 70 && sheet["L2"]?.number == 100)
        #expect(sheet["F3"]?.number == 40 && sheet["G3"]?.value == "soft" && sheet["J3"]?.number == 0)
        let csv = try String(contentsOf: try #require(urls.first { $0.lastPathComponent.hasSuffix("by-team.csv") }),
                             encoding: .utf8)
        #expect(csv.contains("a,analysis,1,30,3.00,GBP,100,hard,2026-11-01,2026-11-30,30,70,100.00\r\n"), "\(csv)")
    }
}
