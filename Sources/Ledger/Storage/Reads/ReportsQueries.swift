import GRDB

// Read queries for period reports and invoices. Every figure is a signed sum over the
// organisation's own transfers, so the report's identities hold exactly by construction:
// each transfer counts +amount when it credits the organisation's account and -amount when it
// debits it, and its money carries the same sign: an inflow's price paid, an outflow's cost of its
// draws (`TransferMoney.includingSettlements`: overdraft usage costs what the grant that settled it
// cost, so closing money is the unspent value of the grants, never positive on negative credits).

/// A half-open window of effective time, `[start, end)`.
public struct ReportWindow: Sendable, Hashable {
    public let start: Instant
    public let end: Instant

    public init(start: Instant, end: Instant) {
        precondition(start <= end, "report window ends before it starts")
        self.start = start
        self.end = end
    }
}

/// Net credits and money moved into (positive) or out of (negative) an organisation's account.
public struct NetFlow: Sendable, Hashable {
    public var credits: Credits
    public var money: Money
    public var transferCount: Int64

    public static func zero(_ currency: Currency) -> NetFlow {
        NetFlow(credits: .zero, money: .zero(currency), transferCount: 0)
    }

    public init(credits: Credits, money: Money, transferCount: Int64) {
        self.credits = credits
        self.money = money
        self.transferCount = transferCount
    }
}

/// Consumption (deductions, as positive numbers) grouped by one key.
public struct ConsumptionGroup: Sendable, Hashable {
    /// The team, investigation or operation recorded on the transfers; "" when they carry none.
    public var key: String
    public var eventCount: Int64
    public var credits: Credits
    public var money: Money

    public init(key: String, eventCount: Int64, credits: Credits, money: Money) {
        self.key = key
        self.eventCount = eventCount
        self.credits = credits
        self.money = money
    }
}

/// Consumption grouped by two keys: `first`, and `group.key` for the second.
public struct ConsumptionPairGroup: Sendable, Hashable {
    public var first: String
    public var group: ConsumptionGroup

    public init(first: String, group: ConsumptionGroup) {
        self.first = first
        self.group = group
    }
}

/// Consumption of one group on one day (the index of the day in the days asked for).
public struct DailyConsumptionGroup: Sendable, Hashable {
    public var day: Int
    public var group: ConsumptionGroup

    public init(day: Int, group: ConsumptionGroup) {
        self.day = day
        self.group = group
    }
}

/// Consumption of one day (the index of the day in the days asked for), team, investigation and
/// operation: the finest grain a report asks for, so it reads an organisation's usage once and rolls
/// every breakdown up from these (`LedgerReader.consumptionCells`). "" where a transfer carries no value.
public struct ConsumptionCell: Sendable, Hashable {
    public var day: Int
    public var team: String
    public var investigation: String
    public var operation: String
    public var eventCount: Int64
    public var credits: Credits
    public var money: Money

    public init(day: Int, team: String, investigation: String, operation: String, eventCount: Int64, credits: Credits,
                money: Money) {
        self.day = day
        self.team = team
        self.investigation = investigation
        self.operation = operation
        self.eventCount = eventCount
        self.credits = credits
        self.money = money
    }

    /// The cell's value of `dimension`.
    public func key(_ dimension: ConsumptionDimension) -> String {
        switch dimension {
        case .team: team
        case .investigation: investigation
        case .operation: operation
        }
    }
}

/// One cost event a usage run charged: the event's attribution and its share of the run.
public struct UsageCharge: Sendable, Hashable {
    public let eventID: String
    public let occurredAt: Instant
    public let team: String
    public let investigation: String?
    public let operation: String
    public let credits: Credits
    /// The event's own cost (the cost of its draws); a run's charges sum to its money.
    public let cost: Money
}

/// What consumption can be grouped by. The raw value is the transfers column.
public enum ConsumptionDimension: String, Sendable, CaseIterable {
    case team, investigation, operation
}

extension LedgerReader {
    /// The organisation's balance from every transfer effective before `instant`.
    public func balance(of organisationID: String, currency: Currency, before instant: Instant) throws -> NetFlow {
        try ReportQueries.balance(of: organisationID, currency: currency, before: instant, on: sql)
    }

    /// Net flow per transfer kind in the window (kinds without transfers are absent).
    public func netFlows(
        of organisationID: String, currency: Currency, in window: ReportWindow
    ) throws -> [TransferKind: NetFlow] {
        try ReportQueries.netFlows(of: organisationID, currency: currency, in: window, on: sql)
    }

    /// Deductions in the window grouped by `dimension`, sorted by key (byte order). Credits and
    /// money are positive for consumption; the groups sum exactly to the negated deduction flow.
    public func consumption(
        of organisationID: String, currency: Currency, in window: ReportWindow, by dimension: ConsumptionDimension
    ) throws -> [ConsumptionGroup] {
        try ReportQueries.consumption(of: organisationID, currency: currency, in: window, by: dimension, on: sql)
    }

    /// Deductions in the window grouped by two dimensions (e.g. team then investigation), sorted by
    /// both keys (byte order); "" where a transfer carries no value. Sums exactly to the negated
    /// deduction flow.
    public func consumption(
        of organisationID: String, currency: Currency, in window: ReportWindow, by first: ConsumptionDimension,
        then second: ConsumptionDimension
    ) throws -> [ConsumptionPairGroup] {
        try ReportQueries.consumption(of: organisationID, currency: currency, in: window, by: first, then: second, on: sql)
    }

    /// Deductions per day, one group per entry of `days` (zero for idle days), in the given order.
    /// Each day is the window `[days[i], days[i + 1])`, the last ending at `end`; the key is the
    /// day's index as text.
    public func dailyConsumption(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant
    ) throws -> [ConsumptionGroup] {
        try ReportQueries.dailyConsumption(of: organisationID, currency: currency, days: days, end: end, on: sql)
    }

    /// Deductions per day and per value of `dimension`, only where there were any, ordered by day
    /// then key (byte order). Days are the windows `[days[i], days[i + 1])`, the last ending at `end`.
    public func dailyConsumption(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant, by dimension: ConsumptionDimension
    ) throws -> [DailyConsumptionGroup] {
        try ReportQueries.dailyConsumption(
            of: organisationID, currency: currency, days: days, end: end, by: dimension, on: sql)
    }

    /// Deductions per day, team, investigation and operation, only where there were any, in no
    /// particular order (`ReportQueries.consumptionCells`).
    public func consumptionCells(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant
    ) throws -> [ConsumptionCell] {
        try ReportQueries.consumptionCells(of: organisationID, currency: currency, days: days, end: end, on: sql)
    }

    /// The rows of the window's detail export: one per transfer, except that a usage run counts one
    /// row per event it charged (`forEachCharge`).
    public func detailRowCount(of organisationID: String, in window: ReportWindow) throws -> Int {
        try ReportQueries.detailRowCount(of: organisationID, in: window, on: sql)
    }

    /// Calls `body` with each event the usage run `transferID` charged, in posting order (occurrence
    /// time, then event id).
    public func forEachCharge(
        ofUsageRun transferID: Int64, currency: Currency, _ body: (UsageCharge) throws -> Void
    ) throws {
        try ReportQueries.forEachCharge(ofUsageRun: transferID, currency: currency, on: sql, body)
    }

    /// Streams the organisation's transfers in the window (`ReportQueries.forEachTransfer`).
    public func forEachTransfer(
        of organisationID: String, in window: ReportWindow, _ body: (Transfer) throws -> Void
    ) throws {
        try ReportQueries.forEachTransfer(of: organisationID, in: window, on: sql, body)
    }

    /// Money into (+) or out of (-) the organisation's account, the account bound as the one parameter:
    /// an inflow's price paid, an outflow's cost of its draws (settlements included).
    static let signedMoney = "CASE WHEN t.credit_account = ? THEN t.money_minor ELSE -\(drawsCost) END"

    /// What a deduction `t` cost: its draws' cost, overdraft settled by later grants included.
    static let consumedMoney = drawsCost
}

/// The sums and streams of period reports, in portable SQL (either store).
enum ReportQueries {
    /// See `LedgerReader.balance(of:currency:before:)`.
    static func balance(
        of organisationID: String, currency: Currency, before instant: Instant, on sql: some SQLSession
    ) throws -> NetFlow {
        let account = AccountID.available(organisationID: organisationID).rawValue
        guard let row = try sql.record(
            """
            SELECT COUNT(*),
                   CAST(COALESCE(SUM(CASE WHEN t.credit_account = ? THEN t.amount ELSE -t.amount END), 0) AS BIGINT),
                   CAST(COALESCE(SUM(\(LedgerReader.signedMoney)), 0) AS BIGINT)
            FROM transfers t WHERE t.organisation_id = ? AND t.effective_at < ?
            """,
            [.text(account), .text(account), .text(organisationID), .integer(instant.millisecondsSinceEpoch)])
        else { preconditionFailure("an aggregate answers one row") }
        return netFlow(row, currency: currency)
    }

    /// See `LedgerReader.netFlows(of:currency:in:)`.
    static func netFlows(
        of organisationID: String, currency: Currency, in window: ReportWindow, on sql: some SQLSession
    ) throws -> [TransferKind: NetFlow] {
        let account = AccountID.available(organisationID: organisationID).rawValue
        let rows = try sql.records(
            """
            SELECT COUNT(*),
                   CAST(SUM(CASE WHEN t.credit_account = ? THEN t.amount ELSE -t.amount END) AS BIGINT),
                   CAST(SUM(\(LedgerReader.signedMoney)) AS BIGINT), t.kind
            FROM transfers t
            WHERE t.organisation_id = ? AND t.effective_at >= ? AND t.effective_at < ?
            GROUP BY t.kind ORDER BY t.kind COLLATE BINARY
            """,
            [.text(account), .text(account), .text(organisationID), .integer(window.start.millisecondsSinceEpoch),
             .integer(window.end.millisecondsSinceEpoch)])
        var flows: [TransferKind: NetFlow] = [:]
        for row in rows {
            let kind = try TransferKind(stored: row.text(3), table: "transfers", column: "kind")
            flows[kind] = netFlow(row, currency: currency)
        }
        return flows
    }

    /// See `LedgerReader.dailyConsumption(of:currency:days:end:)`.
    static func dailyConsumption(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant, on sql: some SQLSession
    ) throws -> [ConsumptionGroup] {
        guard !days.isEmpty else { return [] }
        return try sql.records(
            """
            WITH \(Self.days(days.count)), \(usage)
            SELECT d.day, COALESCE(g.n, 0), CAST(COALESCE(g.credits, 0) AS BIGINT), CAST(COALESCE(g.money, 0) AS BIGINT)
            FROM days d LEFT JOIN (
                SELECT u.day AS day, COUNT(*) AS n, SUM(u.credits) AS credits, SUM(u.money) AS money
                FROM usage u GROUP BY u.day) g ON g.day = d.day
            ORDER BY d.day
            """,
            usageArguments(organisationID, days: days, end: end)
        ).map { row in
            ConsumptionGroup(key: String(row.int64(0)), eventCount: row.int64(1),
                             credits: Credits(microcredits: row.int64(2)),
                             money: Money(minorUnits: row.int64(3), currency: currency))
        }
    }

    /// See `LedgerReader.dailyConsumption(of:currency:days:end:by:)`.
    static func dailyConsumption(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant, by dimension: ConsumptionDimension,
        on sql: some SQLSession
    ) throws -> [DailyConsumptionGroup] {
        guard !days.isEmpty else { return [] }
        return try sql.records(
            """
            WITH \(Self.days(days.count)), \(usage)
            SELECT u.day, COALESCE(u.\(dimension.rawValue), ''), COUNT(*), CAST(SUM(u.credits) AS BIGINT),
                   CAST(SUM(u.money) AS BIGINT)
            FROM usage u GROUP BY 1, 2 ORDER BY 1, COALESCE(u.\(dimension.rawValue), '') COLLATE BINARY
            """,
            usageArguments(organisationID, days: days, end: end)
        ).map { row in
            DailyConsumptionGroup(day: Int(row.int64(0)), group: ConsumptionGroup(
                key: row.text(1), eventCount: row.int64(2), credits: Credits(microcredits: row.int64(3)),
                money: Money(minorUnits: row.int64(4), currency: currency)))
        }
    }

    /// Deductions per day, team, investigation and operation, only where there were any, in no
    /// particular order. Days are the windows `[days[i], days[i + 1])`, the last ending at `end`.
    ///
    /// One pass over the organisation's usage in the days: a report rolls its breakdowns by team,
    /// investigation and operation, its daily trend and its unusual days up from these cells, where
    /// it used to read the same usage six times, once per breakdown (issue 13).
    static func consumptionCells(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant, on sql: some SQLSession
    ) throws -> [ConsumptionCell] {
        guard !days.isEmpty else { return [] }
        var cells: [ConsumptionCell] = []
        try sql.forEachRow(
            """
            WITH \(Self.days(days.count)), \(usage)
            SELECT u.day, COALESCE(u.team, ''), COALESCE(u.investigation, ''), COALESCE(u.operation, ''),
                   COUNT(*), CAST(SUM(u.credits) AS BIGINT), CAST(SUM(u.money) AS BIGINT)
            FROM usage u GROUP BY 1, 2, 3, 4
            """,
            usageArguments(organisationID, days: days, end: end)
        ) { row in
            cells.append(ConsumptionCell(
                day: Int(row.int64(0)), team: row.text(1), investigation: row.text(2), operation: row.text(3),
                eventCount: row.int64(4), credits: Credits(microcredits: row.int64(5)),
                money: Money(minorUnits: row.int64(6), currency: currency)))
        }
        return cells
    }

    /// `usage`: the organisation's consumption in each of the `days` windows (`days`, a CTE), one row
    /// per event a usage run charged (`usage_charges`, with the team, investigation and operation it
    /// was charged under and its share of the run's money) and one per other deduction (its own references,
    /// the cost of its draws). Rows are placed at their deduction's effective time, so they sum
    /// exactly to the deduction flow of any window; a run never spans two local days of its
    /// organisation, so day windows hold whole runs.
    ///
    /// `runs` reads the organisation's deductions in the windows' whole span once, through the index by
    /// organisation and time, and gives each the window it falls in (the windows are consecutive, so
    /// exactly one). Joining every window to the transfers instead let PostgreSQL plan a sequential scan
    /// of all transfers per organisation, 8x slower there and no faster on SQLite (benchmarks/README.md).
    /// Binds `usageArguments` after the days.
    static let usage = """
        runs(day, id, team, investigation, operation, amount, money) AS (
            SELECT (SELECT d.day FROM days d WHERE t.effective_at >= d.start AND t.effective_at < d.finish),
                   t.id, t.team, t.investigation, t.operation, t.amount, \(LedgerReader.consumedMoney)
            FROM transfers t
            WHERE t.organisation_id = ? AND t.effective_at >= ? AND t.effective_at < ? AND t.kind = 'deduction'),
        usage(day, team, investigation, operation, credits, money) AS (
            SELECT r.day, r.team, r.investigation, r.operation, r.amount, r.money
            FROM runs r WHERE NOT EXISTS (SELECT 1 FROM usage_charges c WHERE c.transfer_id = r.id)
            UNION ALL
            SELECT r.day, c.team, c.investigation, c.operation, c.credits, c.cost_minor
            FROM runs r JOIN usage_charges c ON c.transfer_id = r.id)
        """

    /// The day windows' arguments (each day's index and bounds, the last ending at `end`), then the
    /// organisation and the windows' span for `runs`. The days ascend, so the windows are consecutive.
    static func usageArguments(_ organisationID: String, days: [Instant], end: Instant) -> [SQLValue] {
        let bounds = days.map(\.millisecondsSinceEpoch) + [end.millisecondsSinceEpoch]
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 <= $1 }, "day windows must ascend")
        var arguments: [SQLValue] = []
        for index in days.indices {
            arguments += [SQLValue(index), .integer(bounds[index]), .integer(bounds[index + 1])]
        }
        return arguments + [.text(organisationID), .integer(bounds[0]), .integer(end.millisecondsSinceEpoch)]
    }

    /// `days(day, start, finish)`: `count` day windows, bound first by `usageArguments`.
    static func days(_ count: Int) -> String {
        "days(day, start, finish) AS (VALUES \((0..<count).map { _ in "(?, ?, ?)" }.joined(separator: ", ")))"
    }

    /// See `LedgerReader.consumption(of:currency:in:by:)`.
    static func consumption(
        of organisationID: String, currency: Currency, in window: ReportWindow, by dimension: ConsumptionDimension,
        on sql: some SQLSession
    ) throws -> [ConsumptionGroup] {
        try sql.records(
            """
            WITH \(days(1)), \(usage)
            SELECT COALESCE(u.\(dimension.rawValue), ''), COUNT(*), CAST(SUM(u.credits) AS BIGINT),
                   CAST(SUM(u.money) AS BIGINT)
            FROM usage u GROUP BY 1 ORDER BY COALESCE(u.\(dimension.rawValue), '') COLLATE BINARY
            """,
            usageArguments(organisationID, days: [window.start], end: window.end)
        ).map { row in
            ConsumptionGroup(key: row.text(0), eventCount: row.int64(1), credits: Credits(microcredits: row.int64(2)),
                             money: Money(minorUnits: row.int64(3), currency: currency))
        }
    }

    /// See `LedgerReader.consumption(of:currency:in:by:then:)`.
    static func consumption(
        of organisationID: String, currency: Currency, in window: ReportWindow, by first: ConsumptionDimension,
        then second: ConsumptionDimension, on sql: some SQLSession
    ) throws -> [ConsumptionPairGroup] {
        try sql.records(
            """
            WITH \(days(1)), \(usage)
            SELECT COALESCE(u.\(first.rawValue), ''), COALESCE(u.\(second.rawValue), ''),
                   COUNT(*), CAST(SUM(u.credits) AS BIGINT), CAST(SUM(u.money) AS BIGINT)
            FROM usage u GROUP BY 1, 2
            ORDER BY COALESCE(u.\(first.rawValue), '') COLLATE BINARY, COALESCE(u.\(second.rawValue), '') COLLATE BINARY
            """,
            usageArguments(organisationID, days: [window.start], end: window.end)
        ).map { row in
            ConsumptionPairGroup(first: row.text(0), group: ConsumptionGroup(
                key: row.text(1), eventCount: row.int64(2), credits: Credits(microcredits: row.int64(3)),
                money: Money(minorUnits: row.int64(4), currency: currency)))
        }
    }

    /// See `LedgerReader.detailRowCount(of:in:)`.
    static func detailRowCount(of organisationID: String, in window: ReportWindow, on sql: some SQLSession) throws -> Int {
        Int(try sql.integer(
            """
            SELECT CAST(COUNT(*) + COALESCE(SUM((SELECT COUNT(*) FROM usage_charges c WHERE c.transfer_id = t.id)), 0)
                - COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM usage_charges c WHERE c.transfer_id = t.id)
                                    THEN 1 ELSE 0 END), 0) AS BIGINT)
            FROM transfers t WHERE t.organisation_id = ? AND t.effective_at >= ? AND t.effective_at < ?
            """,
            [.text(organisationID), .integer(window.start.millisecondsSinceEpoch),
             .integer(window.end.millisecondsSinceEpoch)]) ?? 0)
    }

    /// See `LedgerReader.forEachCharge(ofUsageRun:currency:_:)`.
    static func forEachCharge(
        ofUsageRun transferID: Int64, currency: Currency, on sql: some SQLSession, _ body: (UsageCharge) throws -> Void
    ) throws {
        try sql.forEachRow(
            """
            SELECT event_id, occurred_at, team, investigation, operation, credits, cost_minor
            FROM usage_charges WHERE transfer_id = ? ORDER BY occurred_at, event_id COLLATE BINARY
            """,
            [.integer(transferID)]
        ) { row in
            try body(UsageCharge(
                eventID: row.text(0), occurredAt: Instant(millisecondsSinceEpoch: row.int64(1)), team: row.text(2),
                investigation: row.textOrNil(3), operation: row.text(4), credits: Credits(microcredits: row.int64(5)),
                cost: Money(minorUnits: row.int64(6), currency: currency)))
        }
    }

    /// Streams the organisation's transfers in the window in posting-time order (then id), an
    /// outflow's money being the cost of its draws (`TransferMoney.includingSettlements`), without
    /// loading them all. That order is the index's own, so SQLite streams rows as it finds them
    /// instead of sorting the month's transfers first (id order cost a sort of every row).
    static func forEachTransfer(
        of organisationID: String, in window: ReportWindow, on sql: some SQLSession, _ body: (Transfer) throws -> Void
    ) throws {
        try sql.forEachRow(
            """
            \(LedgerReader.transferSelect(.includingSettlements))
            WHERE t.organisation_id = ? AND t.effective_at >= ? AND t.effective_at < ?
            ORDER BY t.effective_at, t.id
            """,
            [.text(organisationID), .integer(window.start.millisecondsSinceEpoch),
             .integer(window.end.millisecondsSinceEpoch)]
        ) { row in try body(LedgerReader.transfer(row)) }
    }

    /// Columns 0-2 of `balance` and `netFlows`: count, credits, money.
    private static func netFlow(_ row: SQLRecord, currency: Currency) -> NetFlow {
        NetFlow(credits: Credits(microcredits: row.int64(1)), money: Money(minorUnits: row.int64(2), currency: currency),
                transferCount: row.int64(0))
    }
}
