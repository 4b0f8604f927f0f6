import Foundation
import Ledger
import Reports
import Testing
import TestSupport

/// Builds a small ledger with transfers on both sides of the period's edges (in two time zones)
/// and checks the report against sums computed here from the transfers themselves.
@Suite("period report from the ledger")
struct PeriodReportQueryTests {
    static let period = ReportPeriod.month(year: 2026, month: 11)

    static func ledger(_ directory: TemporaryDirectory) throws -> LedgerDatabase {
        var paris = SampleWorld.organisation("b", currency: .jpy)
        paris.timeZone = "Europe/Paris"
        let database = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("a"), paris])
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "alloc-a", organisationID: "a", source: .allocation, credits: credits("10000"),
                price: Money(minorUnits: 45000, currency: .gbp), effectiveAt: instant("2026-10-01T00:00:00Z")))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "top-a", organisationID: "a", source: .topUp, credits: credits("5000"),
                price: Money(minorUnits: 25000, currency: .gbp), effectiveAt: instant("2026-11-05T12:00:00Z"),
                references: TransferReferences(revolutOrderID: "ord_1")))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "alloc-b", organisationID: "b", source: .allocation, credits: credits("3000"),
                price: Money(minorUnits: 10000, currency: .jpy), effectiveAt: instant("2026-10-01T00:00:00Z")))
            let spends: [(String, String, String, String?, String?, String)] = [
                ("a", "2026-10-15T10:00:00Z", "1000", "analysis", "op-urgent", "ocr"),
                ("a", "2026-11-02T10:00:00Z", "1234.5", "analysis", "op-urgent", "llm.completion"),
                ("a", "2026-11-10T10:00:00Z", "2000", "=evil", "op-routine", "ocr"),
                ("a", "2026-11-20T10:00:00Z", "10", nil, nil, "transcription"),
                ("a", "2026-12-01T00:00:00Z", "7", "analysis", nil, "ocr"),
                ("b", "2026-10-31T22:59:59Z", "1", "analysis", nil, "ocr"),  // Oct 31 23:59:59 in Paris
                ("b", "2026-10-31T23:30:00Z", "100.25", "analysis", nil, "ocr"),  // Nov 1 00:30 in Paris
                ("b", "2026-11-30T23:30:00Z", "50", "analysis", nil, "ocr"),  // Dec 1 00:30 in Paris
            ]
            for (index, spend) in spends.enumerated() {
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: "spend-\(index)", organisationID: spend.0, credits: credits(spend.2),
                    effectiveAt: instant(spend.1), priority: .p1, policy: .allowOverdraft(limit: .zero),
                    references: TransferReferences(team: spend.3, investigation: spend.4, operation: spend.5)))
            }
        }
        return database
    }

    /// Signed credits and money of the organisation's transfers before `end` (and from `start`).
    static func expected(
        _ reader: LedgerReader, _ organisationID: String, from start: Instant?, before end: Instant,
        kinds: Set<TransferKind> = []
    ) throws -> (credits: Int64, money: Int64) {
        let transfers = try reader.history(of: organisationID, from: start, to: end, kinds: kinds, limit: 10_000)
        return transfers.reduce((Int64(0), Int64(0))) { sum, transfer in
            let sign: Int64 = transfer.creditAccount == "org:\(organisationID)" ? 1 : -1
            return (sum.0 + sign * transfer.amount.microcredits, sum.1 + sign * transfer.money.minorUnits)
        }
    }

    @Test("summary figures equal sums of the transfers and tie out, in each organisation's time zone")
    func summary() throws {
        let directory = TemporaryDirectory("reports")
        let database = try Self.ledger(directory)
        try database.read { reader in
            let organisations = try PeriodReportQuery.organisations(reader, ids: nil)
            let report = try PeriodReportQuery.report(reader, period: Self.period, organisations: organisations,
                                                      generatedAt: instant("2026-12-01T02:00:00Z"))
            #expect(report.summary.map(\.organisationID) == ["a", "b"])
            for (summary, organisation) in zip(report.summary, organisations) {
                #expect(summary.tiesOut)
                let window = try PeriodReportQuery.window(Self.period, for: organisation)
                let opening = try Self.expected(reader, organisation.id, from: nil, before: window.start)
                let closing = try Self.expected(reader, organisation.id, from: nil, before: window.end)
                let used = try Self.expected(reader, organisation.id, from: window.start, before: window.end,
                                             kinds: [.deduction])
                #expect(summary.opening.credits.microcredits == opening.credits)
                #expect(summary.opening.money.minorUnits == opening.money)
                #expect(summary.closing.credits.microcredits == closing.credits)
                #expect(summary.closing.money.minorUnits == closing.money)
                #expect(summary.consumption.credits.microcredits == -used.credits)
                #expect(summary.consumption.money.minorUnits == -used.money)
            }
            let a = report.summary[0]
            #expect(a.opening.credits == credits("9000") && a.opening.money.minorUnits == 40500)
            #expect(a.topUps.credits == credits("5000") && a.topUps.money.minorUnits == 25000)
            #expect(a.consumption.credits == credits("3244.5"))
            #expect(a.closing.credits == credits("10755.5"))
            let b = report.summary[1]
            #expect(b.opening.credits == credits("2999"), "22:59:59Z is still October in Paris")
            #expect(b.consumption.credits == credits("100.25"), "23:30Z on Oct 31 is November in Paris")
            #expect(b.closing.money.currency == .jpy)
        }
    }

    @Test("team, investigation, operation and daily rows sum exactly to each organisation's consumption")
    func breakdowns() throws {
        let directory = TemporaryDirectory("reports")
        let database = try Self.ledger(directory)
        let report = try database.read { reader in
            try PeriodReportQuery.report(reader, period: Self.period,
                                         organisations: try PeriodReportQuery.organisations(reader, ids: nil),
                                         generatedAt: instant("2026-12-01T02:00:00Z"))
        }
        for summary in report.summary {
            let id = summary.organisationID
            let sums: [[CreditsAndMoney]] = [
                report.byTeam.filter { $0.organisationID == id }.map(\.consumption),
                report.byInvestigation.filter { $0.organisationID == id }.map(\.consumption),
                report.byOperation.filter { $0.organisationID == id }.map(\.consumption),
                report.dailyTrend.filter { $0.organisationID == id }.map(\.consumption),
            ]
            for rows in sums {
                #expect(rows.map(\.credits.microcredits).reduce(0, +) == summary.consumption.credits.microcredits)
                #expect(rows.map(\.money.minorUnits).reduce(0, +) == summary.consumption.money.minorUnits)
            }
        }
        #expect(report.byTeam.filter { $0.organisationID == "a" }.map(\.team) == ["", "=evil", "analysis"])
        let priorities = report.byInvestigation.filter { $0.organisationID == "a" }.map(\.priority)
        #expect(priorities == [nil, 3, 1], "rows sorted by id: '', op-routine, op-urgent")
        #expect(report.dailyTrend.filter { $0.organisationID == "a" }.count == 30)
        let paris = report.dailyTrend.filter { $0.organisationID == "b" }
        #expect(paris[0].date == LocalDate(year: 2026, month: 11, day: 1)!)
        #expect(paris[0].consumption.credits == credits("100.25"))
    }

    @Test("an unknown organisation is a typed error")
    func unknownOrganisation() throws {
        let directory = TemporaryDirectory("reports")
        let database = try Self.ledger(directory)
        #expect(throws: ReportQueryError.self) {
            try database.read { reader in try PeriodReportQuery.organisations(reader, ids: ["zzz"]) }
        }
    }

    @Test("the written workbook and CSVs carry the ledger's figures and every transfer of the period")
    func endToEnd() throws {
        let directory = TemporaryDirectory("reports")
        let database = try Self.ledger(directory)
        let out = URL(fileURLWithPath: directory.path)
        let urls = try database.read { reader in
            let organisations = try PeriodReportQuery.organisations(reader, ids: ["a"])
            let report = try PeriodReportQuery.report(reader, period: Self.period, organisations: organisations,
                                                      generatedAt: instant("2026-12-01T02:00:00Z"))
            let details = try PeriodReportQuery.details(reader, period: Self.period, organisations: organisations)
            #expect(details.count == 4)
            return try PeriodReportWriter(baseName: "report-2026-11").write(report, details: details, to: out)
        }
        let file = try XLSXFile(url: urls[0])
        let teams = try file.sheet("By team")
        #expect(teams["B3"]?.value == "=evil" && teams["B3"]?.isText == true)
        #expect(teams["D5"]?.formula == "SUM(D2:D4)" && teams["D5"]?.number == 3244.5)
        let transactions = try file.sheet("Transactions")
        #expect(transactions.lastRow == 5)
        // Posting-time order, not posting order: the top-up was posted first but is dated Nov 5.
        #expect(transactions["C2"]?.value == "deduction" && transactions["C3"]?.value == "top_up")
        #expect(transactions["K3"]?.value == "ord_1")
        let csv = try #require(CSVReader.parse(try String(contentsOf: urls.last!, encoding: .utf8)))
        #expect(csv.count == 5)
    }
}
