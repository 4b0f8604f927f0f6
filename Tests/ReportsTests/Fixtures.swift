import Foundation
import Ledger
import Reports

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("reports-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Names of the entries in the directory, hidden ones included, sorted.
    func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}

/// Free text that spreadsheets would run as formulas if written carelessly.
let hostileTexts = ["=1+2", "+SUM(1,2)", "-3+4", "@SUM(A1)", "\tTab", "=cmd|' /C calc'!A0"]

enum Fixtures {
    static let gbp = Currency.gbp
    static let jpy = Currency.jpy
    static let period = ReportPeriod.month(year: 2026, month: 11)
    static let generatedAt = Instant(millisecondsSinceEpoch: 1_795_000_000_000)

    static func credits(_ text: String) -> Credits { try! Credits.parse(text).get() }
    static func gbp(_ minor: Int64) -> Money { Money(minorUnits: minor, currency: .gbp) }
    static func amount(_ credits: String, _ minor: Int64, _ currency: Currency = .gbp) -> CreditsAndMoney {
        CreditsAndMoney(credits: Self.credits(credits), money: Money(minorUnits: minor, currency: currency))
    }

    /// Org A (GBP): opening 1000 (£45.00) + allocation 10000 (£450.00) + top-up 500.5 (£22.52)
    /// - consumption 2345.25 (£105.54) - expiry 100 (£4.50) + reversal 10 (£0.45) - adjustment 5 (£0.23)
    /// = closing 9060.25 (£407.70).
    static func summaryA() -> OrganisationSummary {
        OrganisationSummary(
            organisationID: "org-a", organisationName: "Agency A, \"North\"", opening: amount("1000", 4500),
            allocations: amount("10000", 45000), topUps: amount("500.5", 2252),
            consumption: amount("2345.25", 10554), expiries: amount("100", 450), reversals: amount("10", 45),
            adjustments: amount("-5", -23), closing: amount("9060.25", 40770))
    }

    /// Org B (JPY), one consumption only.
    static func summaryB() -> OrganisationSummary {
        let zero = CreditsAndMoney.zero(.jpy)
        return OrganisationSummary(
            organisationID: "org-b", organisationName: "Büro 東京", opening: amount("5000", 75000, .jpy),
            allocations: zero, topUps: zero, consumption: amount("1234.5", 18518, .jpy), expiries: zero,
            reversals: zero, adjustments: zero, closing: amount("3765.5", 56482, .jpy))
    }

    /// Org A's consumption split over teams (names include hostile and awkward text).
    static func teams() -> [TeamUsage] {
        let names = ["=1+2", "Alpha, \"quoted\"", "Line\nbreak"]
        let credits = ["1000", "1000.25", "345"]
        let money = try! Allocation.money(gbp(10554), overCredits: credits.map(Self.credits))
        return zip(names, zip(credits, money)).map { name, pair in
            TeamUsage(organisationID: "org-a", team: name, eventCount: 10,
                      consumption: CreditsAndMoney(credits: Self.credits(pair.0), money: pair.1))
        }
    }

    static func daily() -> [DailyUsage] {
        let days = period.days
        let a = days.enumerated().map { index, day in
            DailyUsage(organisationID: "org-a", date: day, eventCount: Int64(index),
                       consumption: amount(String(index * 10), Int64(index * 45)))
        }
        let b = days.map { day in
            DailyUsage(organisationID: "org-b", date: day, eventCount: 1, consumption: amount("1", 15, .jpy))
        }
        return a + b
    }

    static func report() -> PeriodReport {
        PeriodReport(
            period: period, generatedAt: generatedAt, summary: [summaryA(), summaryB()], byTeam: teams(),
            byInvestigation: [InvestigationUsage(organisationID: "org-a", investigation: "+Op Nightjar", priority: 1,
                                                 eventCount: 3, consumption: amount("2345.25", 10554))],
            byOperation: [OperationUsage(organisationID: "org-a", operation: "llm.completion", eventCount: 30,
                                         consumption: amount("2345.25", 10554))],
            dailyTrend: daily(),
            unusualConsumption: [UnusualConsumption(
                organisationID: "org-a", scope: "team", name: "@team", date: LocalDate(year: 2026, month: 11, day: 3)!,
                consumption: credits("900"), baseline: credits("100"),
                ratio: try! ExactDecimal.parse("9").get())],
            reconciliationExceptions: [ReconciliationException(
                organisationID: "", reference: "orders.csv:7", code: .orderNotTied,
                detail: "-no metadata", amount: gbp(4500), observedAt: generatedAt)])
    }

    static func details(_ count: Int) -> [TransferDetail] {
        (0..<count).map { index in
            TransferDetail(
                transferID: Int64(index + 1), postedAt: generatedAt.adding(milliseconds: Int64(index) * 1000),
                kind: .deduction, organisationID: "org-a", debitAccount: "org-a:available",
                creditAccount: "consumption", credits: credits("1.5"), cost: gbp(7), idempotencyKey: "evt-\(index)",
                costEventID: "evt-\(index)", team: index == 0 ? "=HYPERLINK(\"x\")" : "alpha",
                operation: "ocr")
        }
    }
}
