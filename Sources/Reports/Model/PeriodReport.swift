import Ledger

/// A row type of a report table: its columns and the cells of one value.
public protocol ReportRow: Sendable {
    /// The table's columns, in order.
    static var columns: [ReportColumn] { get }
    /// This row's cells, one per column.
    var cells: [ReportCell] { get }
}

/// A reporting period: whole local days `firstDay...lastDay` with a label such as `2026-11`.
public struct ReportPeriod: Sendable, Hashable, CustomStringConvertible {
    public let label: String
    public let firstDay: LocalDate
    public let lastDay: LocalDate

    public init(label: String, firstDay: LocalDate, lastDay: LocalDate) {
        precondition(firstDay <= lastDay, "period ends before it starts")
        self.label = label
        self.firstDay = firstDay
        self.lastDay = lastDay
    }

    /// The calendar month `year`-`month`, labelled `YYYY-MM`.
    public static func month(year: Int, month: Int) -> ReportPeriod {
        let first = LocalDate(year: year, month: month, day: 1)!
        let last = first.firstOfMonth(addingMonths: 1).adding(days: -1)
        return ReportPeriod(label: String(first.description.prefix(7)), firstDay: first, lastDay: last)
    }

    /// Parses `YYYY-MM` as a calendar month; nil for anything else.
    public static func parseMonth(_ text: String) -> ReportPeriod? {
        guard text.count == 7, let first = LocalDate.parse(text + "-01") else { return nil }
        return month(year: first.year, month: first.month)
    }

    /// Every day of the period in order.
    public var days: [LocalDate] {
        (firstDay.daysSinceEpoch...lastDay.daysSinceEpoch).map(LocalDate.init(daysSinceEpoch:))
    }

    /// `2026-11 (2026-11-01 to 2026-11-30)`.
    public var description: String { "\(label) (\(firstDay) to \(lastDay))" }
}

/// An amount in credits with its money value (at the grants' cost basis) in one currency.
public struct CreditsAndMoney: Sendable, Hashable, Codable {
    public var credits: Credits
    public var money: Money

    public init(credits: Credits, money: Money) {
        self.credits = credits
        self.money = money
    }

    public static func zero(_ currency: Currency) -> CreditsAndMoney {
        CreditsAndMoney(credits: .zero, money: .zero(currency))
    }

    var cells: [ReportCell] { [.credits(credits), .money(money)] }
}

/// One organisation's movement over the period.
///
/// Sign convention: allocations, top-ups, consumption and expiries are magnitudes (never
/// negative); reversals and adjustments are signed net amounts (positive when they added to the
/// balance). Tie-out (Invariant 6): closing = opening + allocations + top-ups - consumption -
/// expiries + reversals + adjustments, in credits and in money.
public struct OrganisationSummary: ReportRow, Hashable {
    public var organisationID: String
    public var organisationName: String
    public var opening: CreditsAndMoney
    public var allocations: CreditsAndMoney
    public var topUps: CreditsAndMoney
    public var consumption: CreditsAndMoney
    public var expiries: CreditsAndMoney
    public var reversals: CreditsAndMoney
    public var adjustments: CreditsAndMoney
    public var closing: CreditsAndMoney

    public init(
        organisationID: String, organisationName: String, opening: CreditsAndMoney,
        allocations: CreditsAndMoney, topUps: CreditsAndMoney, consumption: CreditsAndMoney,
        expiries: CreditsAndMoney, reversals: CreditsAndMoney, adjustments: CreditsAndMoney,
        closing: CreditsAndMoney
    ) {
        self.organisationID = organisationID
        self.organisationName = organisationName
        self.opening = opening
        self.allocations = allocations
        self.topUps = topUps
        self.consumption = consumption
        self.expiries = expiries
        self.reversals = reversals
        self.adjustments = adjustments
        self.closing = closing
    }

    static let figures = [
        "Opening", "Allocations", "Top-ups", "Consumption", "Expiries", "Reversals", "Adjustments", "Closing",
    ]

    public static let columns: [ReportColumn] =
        [ReportColumn("Organisation ID", .text, total: .label("Total")),
         ReportColumn("Organisation", .text, width: 28)]
        + figures.flatMap { figure in
            [ReportColumn("\(figure) credits", .credits, total: .sum),
             ReportColumn("\(figure) money", .money, total: .sum)]
        }

    public var cells: [ReportCell] {
        [.text(organisationID), .text(organisationName)]
            + [opening, allocations, topUps, consumption, expiries, reversals, adjustments, closing].flatMap(\.cells)
    }

    /// Whether the tie-out identity holds in credits and in money (false also on overflow).
    public var tiesOut: Bool {
        func expected(_ value: KeyPath<CreditsAndMoney, Int64>) -> Int64? {
            try? Checked.sum([opening[keyPath: value], allocations[keyPath: value], topUps[keyPath: value],
                              -consumption[keyPath: value], -expiries[keyPath: value], reversals[keyPath: value],
                              adjustments[keyPath: value]])
        }
        return expected(\.credits.microcredits) == closing.credits.microcredits
            && expected(\.money.minorUnits) == closing.money.minorUnits
    }
}

/// Consumption by one team over the period.
public struct TeamUsage: ReportRow, Hashable {
    public var organisationID: String
    public var team: String
    public var eventCount: Int64
    public var consumption: CreditsAndMoney

    public init(organisationID: String, team: String, eventCount: Int64, consumption: CreditsAndMoney) {
        self.organisationID = organisationID
        self.team = team
        self.eventCount = eventCount
        self.consumption = consumption
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")), ReportColumn("Team", .text, width: 24),
    ] + usageColumns

    public var cells: [ReportCell] { [.text(organisationID), .text(team), .integer(eventCount)] + consumption.cells }
}

/// The three usage columns every breakdown ends with.
let usageColumns = [
    ReportColumn("Events", .integer, total: .sum), ReportColumn("Consumption credits", .credits, total: .sum),
    ReportColumn("Consumption money", .money, total: .sum),
]

/// Consumption by one investigation over the period.
public struct InvestigationUsage: ReportRow, Hashable {
    public var organisationID: String
    public var investigation: String
    /// 1 (P1, highest) to 4; nil when the investigation is not configured (or there is none).
    public var priority: Int?
    public var eventCount: Int64
    public var consumption: CreditsAndMoney

    public init(
        organisationID: String, investigation: String, priority: Int?, eventCount: Int64,
        consumption: CreditsAndMoney
    ) {
        self.organisationID = organisationID
        self.investigation = investigation
        self.priority = priority
        self.eventCount = eventCount
        self.consumption = consumption
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")),
        ReportColumn("Investigation", .text, width: 28), ReportColumn("Priority", .text, width: 9),
    ] + usageColumns

    public var cells: [ReportCell] {
        [.text(organisationID), .text(investigation), priority.map { .text("P\($0)") } ?? .empty, .integer(eventCount)]
            + consumption.cells
    }
}

/// Consumption by one operation (`llm.completion`, `ocr`, ...) over the period.
public struct OperationUsage: ReportRow, Hashable {
    public var organisationID: String
    public var operation: String
    public var eventCount: Int64
    public var consumption: CreditsAndMoney

    public init(organisationID: String, operation: String, eventCount: Int64, consumption: CreditsAndMoney) {
        self.organisationID = organisationID
        self.operation = operation
        self.eventCount = eventCount
        self.consumption = consumption
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")), ReportColumn("Operation", .text, width: 20),
    ] + usageColumns

    public var cells: [ReportCell] {
        [.text(organisationID), .text(operation), .integer(eventCount)] + consumption.cells
    }
}

/// One organisation's consumption on one day. Rows are expected for every day of the period
/// (zero when idle) and sorted by organisation then date, so each organisation is one chart line.
public struct DailyUsage: ReportRow, Hashable {
    public var organisationID: String
    public var date: LocalDate
    public var eventCount: Int64
    public var consumption: CreditsAndMoney

    public init(organisationID: String, date: LocalDate, eventCount: Int64, consumption: CreditsAndMoney) {
        self.organisationID = organisationID
        self.date = date
        self.eventCount = eventCount
        self.consumption = consumption
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")), ReportColumn("Date", .date),
    ] + usageColumns

    public var cells: [ReportCell] {
        [.text(organisationID), .date(date), .integer(eventCount)] + consumption.cells
    }
}

/// A team or investigation that consumed far above its own baseline on a day.
public struct UnusualConsumption: ReportRow, Hashable {
    public var organisationID: String
    /// `team` or `investigation`.
    public var scope: String
    public var name: String
    public var date: LocalDate
    public var consumption: Credits
    /// The baseline daily consumption it was compared with.
    public var baseline: Credits
    /// consumption / baseline, as computed by the detector (exact decimal).
    public var ratio: ExactDecimal

    public init(
        organisationID: String, scope: String, name: String, date: LocalDate, consumption: Credits,
        baseline: Credits, ratio: ExactDecimal
    ) {
        self.organisationID = organisationID
        self.scope = scope
        self.name = name
        self.date = date
        self.consumption = consumption
        self.baseline = baseline
        self.ratio = ratio
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text), ReportColumn("Scope", .text, width: 14),
        ReportColumn("Name", .text, width: 24), ReportColumn("Date", .date),
        ReportColumn("Consumption credits", .credits), ReportColumn("Baseline credits per day", .credits),
        ReportColumn("Ratio to baseline", .decimal),
    ]

    public var cells: [ReportCell] {
        [.text(organisationID), .text(scope), .text(name), .date(date), .credits(consumption), .credits(baseline),
         .decimal(ratio)]
    }
}

/// A reconciliation exception for a person to review (unmatched payment, amount mismatch, ...).
public struct ReconciliationException: ReportRow, Hashable {
    /// Empty when the record could not be tied to an organisation.
    public var organisationID: String
    /// `exception` (needs a person) or `aged` (waiting longer than expected).
    public var severity: FindingSeverity
    /// The order id, event id or file:line.
    public var reference: String
    /// The rule, e.g. `orderAmountMismatch`.
    public var code: FindingCode
    public var detail: String
    public var amount: Money?
    public var observedAt: Instant?

    /// What the rule is about, shown in the Source column.
    public enum Source: String, Sendable, Hashable {
        case payments
        case costEvents = "cost-events"

        public init(_ code: FindingCode) {
            self = code.isAboutUsage ? .costEvents : .payments
        }
    }

    /// Where it came from, by its rule: `cost-events` for usage rules, `payments` for the others.
    public var source: Source { Source(code) }

    public init(
        organisationID: String, severity: FindingSeverity = .exception, reference: String, code: FindingCode,
        detail: String, amount: Money? = nil, observedAt: Instant? = nil
    ) {
        self.organisationID = organisationID
        self.severity = severity
        self.reference = reference
        self.code = code
        self.detail = detail
        self.amount = amount
        self.observedAt = observedAt
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text), ReportColumn("Severity", .text, width: 10),
        ReportColumn("Source", .text, width: 14), ReportColumn("Reference", .text, width: 30),
        ReportColumn("Code", .text, width: 24),
        ReportColumn("Detail", .text, width: 50), ReportColumn("Amount", .money),
        ReportColumn("Observed at (UTC)", .instant),
    ]

    public var cells: [ReportCell] {
        [.text(organisationID), .text(severity.rawValue), .text(source.rawValue), .text(reference), .text(code.rawValue),
         .text(detail),
         amount.map(ReportCell.money) ?? .empty, observedAt.map(ReportCell.instant) ?? .empty]
    }
}

/// One transfer of the period, for the audit detail export.
public struct TransferDetail: ReportRow, Hashable {
    public var transferID: Int64
    public var postedAt: Instant
    public var kind: TransferKind
    public var organisationID: String
    public var debitAccount: String
    public var creditAccount: String
    public var credits: Credits
    /// The money cost at the grants' cost basis, when the transfer has one.
    public var cost: Money?
    public var idempotencyKey: String
    public var costEventID: String?
    public var revolutOrderID: String?
    public var team: String?
    public var investigation: String?
    public var operation: String?
    public var planPeriod: String?
    public var memo: String?

    public init(
        transferID: Int64, postedAt: Instant, kind: TransferKind, organisationID: String, debitAccount: String,
        creditAccount: String, credits: Credits, cost: Money?, idempotencyKey: String, costEventID: String? = nil,
        revolutOrderID: String? = nil, team: String? = nil, investigation: String? = nil, operation: String? = nil,
        planPeriod: String? = nil, memo: String? = nil
    ) {
        self.transferID = transferID
        self.postedAt = postedAt
        self.kind = kind
        self.organisationID = organisationID
        self.debitAccount = debitAccount
        self.creditAccount = creditAccount
        self.credits = credits
        self.cost = cost
        self.idempotencyKey = idempotencyKey
        self.costEventID = costEventID
        self.revolutOrderID = revolutOrderID
        self.team = team
        self.investigation = investigation
        self.operation = operation
        self.planPeriod = planPeriod
        self.memo = memo
    }

    public static let columns = [
        ReportColumn("Transfer ID", .integer), ReportColumn("Posted at (UTC)", .instant),
        ReportColumn("Kind", .text, width: 12), ReportColumn("Organisation ID", .text),
        ReportColumn("Debit account", .text, width: 24), ReportColumn("Credit account", .text, width: 24),
        ReportColumn("Credits", .credits), ReportColumn("Cost", .money),
        ReportColumn("Idempotency key", .text, width: 30), ReportColumn("Cost event ID", .text, width: 24),
        ReportColumn("Revolut order ID", .text, width: 24), ReportColumn("Team", .text),
        ReportColumn("Investigation", .text), ReportColumn("Operation", .text), ReportColumn("Plan period", .text),
        ReportColumn("Memo", .text, width: 40),
    ]

    public var cells: [ReportCell] {
        func text(_ value: String?) -> ReportCell { value.map(ReportCell.text) ?? .empty }
        return [.integer(transferID), .instant(postedAt), .text(kind.rawValue), .text(organisationID), .text(debitAccount),
                .text(creditAccount), .credits(credits), cost.map(ReportCell.money) ?? .empty, .text(idempotencyKey),
                text(costEventID), text(revolutOrderID), text(team), text(investigation), text(operation),
                text(planPeriod), text(memo)]
    }
}

/// Everything in one period report except the transaction detail, which is streamed.
public struct PeriodReport: Sendable, Hashable {
    public var period: ReportPeriod
    /// When the report was generated (passed in: the writers never read the clock).
    public var generatedAt: Instant
    public var summary: [OrganisationSummary]
    public var byTeam: [TeamUsage]
    public var byInvestigation: [InvestigationUsage]
    public var byOperation: [OperationUsage]
    public var dailyTrend: [DailyUsage]
    public var unusualConsumption: [UnusualConsumption]
    public var reconciliationExceptions: [ReconciliationException]

    public init(
        period: ReportPeriod, generatedAt: Instant, summary: [OrganisationSummary], byTeam: [TeamUsage] = [],
        byInvestigation: [InvestigationUsage] = [], byOperation: [OperationUsage] = [],
        dailyTrend: [DailyUsage] = [], unusualConsumption: [UnusualConsumption] = [],
        reconciliationExceptions: [ReconciliationException] = []
    ) {
        self.period = period
        self.generatedAt = generatedAt
        self.summary = summary
        self.byTeam = byTeam
        self.byInvestigation = byInvestigation
        self.byOperation = byOperation
        self.dailyTrend = dailyTrend
        self.unusualConsumption = unusualConsumption
        self.reconciliationExceptions = reconciliationExceptions
    }
}

/// Rows streamed so a million never sit in memory: `count` rows (known first, e.g. from
/// `COUNT(*)` in the same read transaction, since the XLSX writer splits a sheet at the row
/// limit) delivered one by one to `body`. A stream reading through a `LedgerReader` must be
/// consumed inside the same `read` call.
public struct RowStream<Row> {
    public var count: Int
    public var forEach: ((Row) throws -> Void) throws -> Void

    public init(count: Int, forEach: @escaping ((Row) throws -> Void) throws -> Void) {
        self.count = count
        self.forEach = forEach
    }

    /// A stream over an array (tests, small reports).
    public init(_ rows: [Row]) {
        self.init(count: rows.count) { body in for row in rows { try body(row) } }
    }
}

/// The transaction detail of a period report.
public typealias TransferDetailStream = RowStream<TransferDetail>
