/// What the ledger's read commands (`ledger balance`, `history`, `grants`, `draws`, `audit`), `report`,
/// `invoice` and `alerts` ask, answered alike by either store: `LedgerReader` on SQLite and `PostgresReader` on
/// PostgreSQL, through the same portable queries (`BalanceQueries`, `ConsumptionQueries`,
/// `LedgerReader.history`, `ConfigurationQueries`, `HoldQueries`, `ReportQueries`, `AlertQueries`).
/// Each conformer answers from one consistent state of the ledger (one read transaction).
public protocol LedgerReads {
    func organisation(_ id: String) throws -> Organisation?
    /// Throws `PostingRejection.organisationNotFound` for an unknown organisation.
    func balance(of organisationID: String) throws -> Balance
    /// Every organisation's balance, by organisation id (byte order).
    func balances() throws -> [Balance]
    /// Credits the organisation's open holds promise at `instant`.
    func heldCredits(of organisationID: String, at instant: Instant) throws -> Credits
    /// The balance as it stood at `instant` (see `BalanceQueries.balance(of:asOf:on:)`).
    func balance(of organisationID: String, asOf instant: Instant) throws -> Balance
    /// Consumption by team, investigation or operation as it stood at `instant` (and since `from`).
    func consumption(
        of organisationID: String, currency: Currency, by dimension: ConsumptionDimension, asOf instant: Instant,
        from: Instant?
    ) throws -> [ConsumptionGroup]
    /// The organisation's transfers in posting order, filtered, after `afterID`, at most `limit`.
    func history(
        of organisationID: String, from: Instant?, to: Instant?, kinds: Set<TransferKind>, afterID: Int64?,
        limit: Int, money: TransferMoney
    ) throws -> [Transfer]
    func transfer(id: Int64) throws -> Transfer?
    func grant(id: Int64) throws -> Grant?
    /// The organisation's grants, oldest first.
    func grants(of organisationID: String) throws -> [Grant]
    /// The outflows that drew on a grant, oldest first.
    func draws(ofGrant grantID: Int64) throws -> [GrantDraw]
    /// The grants an outflow drew from, oldest first.
    func draws(ofTransfer transferID: Int64) throws -> [GrantDraw]
    /// The audit statement of `from..<to`; its entries are read while this read lasts.
    func auditStatement(of organisationID: String, from: Instant, to: Instant) throws -> AuditStatement

    // Period reports (`credits report`).

    /// Every organisation, by id.
    func organisations() throws -> [Organisation]
    /// The newest plan's findings, nil before the first plan.
    func latestPlanFindings() throws -> PlanFindings?
    /// The organisation's balance from every transfer effective before `instant`.
    func balance(of organisationID: String, currency: Currency, before instant: Instant) throws -> NetFlow
    /// Net flow per transfer kind in the window.
    func netFlows(of organisationID: String, currency: Currency, in window: ReportWindow) throws -> [TransferKind: NetFlow]
    /// Deductions per day, team, investigation and operation (`ReportQueries.consumptionCells`).
    func consumptionCells(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant
    ) throws -> [ConsumptionCell]
    /// The standing of the organisation's budgets at `instant`.
    func budgetStatuses(of organisation: Organisation, at instant: Instant, holds: Bool) throws -> [BudgetStatus]
    /// The rows of the window's detail export.
    func detailRowCount(of organisationID: String, in window: ReportWindow) throws -> Int
    /// The organisation's transfers in the window, streamed in posting-time order.
    func forEachTransfer(of organisationID: String, in window: ReportWindow, _ body: (Transfer) throws -> Void) throws
    /// The events a usage run charged, streamed in posting order.
    func forEachCharge(ofUsageRun transferID: Int64, currency: Currency, _ body: (UsageCharge) throws -> Void) throws

    // Invoices (`credits invoice`).

    func issuer() throws -> Issuer?
    func plan(_ id: String) throws -> Plan?
    /// The invoice issued to the organisation for the period, if any.
    func invoice(organisationID: String, period: String) throws -> StoredInvoice?
    /// Deductions in the window grouped by two dimensions, sorted by both keys.
    func consumption(
        of organisationID: String, currency: Currency, in window: ReportWindow, by first: ConsumptionDimension,
        then second: ConsumptionDimension
    ) throws -> [ConsumptionPairGroup]

    // Alerts (`credits alerts`).

    /// The organisation's balance from transfers effective at or before `instant`.
    func available(of organisationID: String, at instant: Instant) throws -> Credits
    /// Deductions from the organisation's balance effective in `(after, through]`.
    func deductions(of organisationID: String, after: Instant, through: Instant) throws -> Credits
    /// Deductions per day and per value of `dimension` (`ReportQueries.dailyConsumption`).
    func dailyConsumption(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant, by dimension: ConsumptionDimension
    ) throws -> [DailyConsumptionGroup]
    /// Every stored alert state of the organisation, by rule then subject.
    func alertStates(of organisationID: String) throws -> [AlertState]
    /// Payloads of the alerts fired for the organisation, oldest first.
    func alertsFired(of organisationID: String) throws -> [String]
    /// Pending deliveries whose next attempt is due at `instant`, oldest first, at most `limit`.
    func dueAlertDeliveries(at instant: Instant, limit: Int) throws -> [AlertDelivery]
    /// Outbox rows whose last attempt was signed at exactly `instant`, oldest first.
    func alertDeliveriesAttempted(at instant: Instant) throws -> [AlertDelivery]
    /// Every outbox row, oldest first.
    func alertDeliveries() throws -> [AlertDelivery]
}

extension LedgerReads {
    /// The organisation's runway judged at `asOf` for `spendable` credits, by the one `Runway` rule.
    public func runway(of organisationID: String, spendable: Credits, asOf: Instant) throws -> Runway {
        let burn = try deductions(of: organisationID, after: Runway.windowStart(asOf: asOf), through: asOf)
        return Runway(spendable: spendable, burn: burn)
    }
}

/// What issuing invoices needs of a write transaction, on either store: its reads, and recording an
/// invoice, which takes the issuer's next number in the same transaction (`InvoiceBook`).
public protocol LedgerInvoicing {
    var reads: any LedgerReads { get }
    func recordInvoice(_ content: InvoiceContent, issuer: Issuer) throws -> (invoice: StoredInvoice, created: Bool)
}

extension LedgerTransaction: LedgerInvoicing {
    public var reads: any LedgerReads { reader }
}

/// `LedgerInvoicing` inside the write transaction `PostgresStore.invoicing` opened.
struct PostgresInvoicing: LedgerInvoicing {
    let sql: PostgresSession
    let now: Instant

    var reads: any LedgerReads { PostgresReader(sql: sql) }

    func recordInvoice(_ content: InvoiceContent, issuer: Issuer) throws -> (invoice: StoredInvoice, created: Bool) {
        try InvoiceBook.record(content, issuer: issuer, now: now, on: sql)
    }
}

extension LedgerReader: LedgerReads {}

/// `LedgerReads` on a PostgreSQL ledger, inside the read transaction `PostgresStore.read` opened.
struct PostgresReader: LedgerReads {
    let sql: PostgresSession

    func organisation(_ id: String) throws -> Organisation? {
        try ConfigurationQueries.organisation(id, on: sql)
    }

    func balance(of organisationID: String) throws -> Balance {
        try BalanceQueries.balance(of: organisationID, on: sql)
    }

    func balances() throws -> [Balance] {
        try BalanceQueries.balances(on: sql)
    }

    func heldCredits(of organisationID: String, at instant: Instant) throws -> Credits {
        try HoldQueries.held(organisationID: organisationID, at: instant, excluding: nil, in: sql)
    }

    func balance(of organisationID: String, asOf instant: Instant) throws -> Balance {
        try BalanceQueries.balance(of: organisationID, asOf: instant, on: sql)
    }

    func consumption(
        of organisationID: String, currency: Currency, by dimension: ConsumptionDimension, asOf instant: Instant,
        from: Instant?
    ) throws -> [ConsumptionGroup] {
        try ConsumptionQueries.consumption(
            of: organisationID, currency: currency, by: dimension, asOf: instant, from: from, on: sql)
    }

    func history(
        of organisationID: String, from: Instant?, to: Instant?, kinds: Set<TransferKind>, afterID: Int64?,
        limit: Int, money: TransferMoney
    ) throws -> [Transfer] {
        try LedgerReader.history(
            of: organisationID, from: from, to: to, kinds: kinds, afterID: afterID, limit: limit, money: money, on: sql)
    }

    func transfer(id: Int64) throws -> Transfer? {
        try LedgerReader.transfer(id: id, on: sql)
    }

    func grant(id: Int64) throws -> Grant? {
        try LedgerReader.grant(id: id, on: sql)
    }

    func grants(of organisationID: String) throws -> [Grant] {
        try LedgerReader.grants(of: organisationID, on: sql)
    }

    func draws(ofGrant grantID: Int64) throws -> [GrantDraw] {
        try LedgerReader.draws(ofGrant: grantID, on: sql)
    }

    func draws(ofTransfer transferID: Int64) throws -> [GrantDraw] {
        try LedgerReader.draws(ofTransfer: transferID, on: sql)
    }

    func auditStatement(of organisationID: String, from: Instant, to: Instant) throws -> AuditStatement {
        try AuditStatementQueries.statement(of: organisationID, from: from, to: to, on: sql)
    }

    func organisations() throws -> [Organisation] {
        try ConfigurationQueries.organisations(on: sql)
    }

    func latestPlanFindings() throws -> PlanFindings? {
        try PlanFindings.latest(on: sql)
    }

    func balance(of organisationID: String, currency: Currency, before instant: Instant) throws -> NetFlow {
        try ReportQueries.balance(of: organisationID, currency: currency, before: instant, on: sql)
    }

    func netFlows(of organisationID: String, currency: Currency, in window: ReportWindow) throws -> [TransferKind: NetFlow] {
        try ReportQueries.netFlows(of: organisationID, currency: currency, in: window, on: sql)
    }

    func consumptionCells(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant
    ) throws -> [ConsumptionCell] {
        try ReportQueries.consumptionCells(of: organisationID, currency: currency, days: days, end: end, on: sql)
    }

    func budgetStatuses(of organisation: Organisation, at instant: Instant, holds: Bool) throws -> [BudgetStatus] {
        try BudgetStatus.statuses(of: organisation, at: instant, holds: holds, on: sql)
    }

    func detailRowCount(of organisationID: String, in window: ReportWindow) throws -> Int {
        try ReportQueries.detailRowCount(of: organisationID, in: window, on: sql)
    }

    func forEachTransfer(of organisationID: String, in window: ReportWindow, _ body: (Transfer) throws -> Void) throws {
        try ReportQueries.forEachTransfer(of: organisationID, in: window, on: sql, body)
    }

    func forEachCharge(ofUsageRun transferID: Int64, currency: Currency, _ body: (UsageCharge) throws -> Void) throws {
        try ReportQueries.forEachCharge(ofUsageRun: transferID, currency: currency, on: sql, body)
    }

    func issuer() throws -> Issuer? {
        try ConfigurationQueries.issuer(on: sql)
    }

    func plan(_ id: String) throws -> Plan? {
        try ConfigurationQueries.plan(id, on: sql)
    }

    func invoice(organisationID: String, period: String) throws -> StoredInvoice? {
        try InvoiceBook.invoice(organisationID: organisationID, period: period, on: sql)
    }

    func consumption(
        of organisationID: String, currency: Currency, in window: ReportWindow, by first: ConsumptionDimension,
        then second: ConsumptionDimension
    ) throws -> [ConsumptionPairGroup] {
        try ReportQueries.consumption(of: organisationID, currency: currency, in: window, by: first, then: second, on: sql)
    }

    func available(of organisationID: String, at instant: Instant) throws -> Credits {
        try AlertQueries.available(of: organisationID, at: instant, on: sql)
    }

    func deductions(of organisationID: String, after: Instant, through: Instant) throws -> Credits {
        try AlertQueries.deductions(of: organisationID, after: after, through: through, on: sql)
    }

    func dailyConsumption(
        of organisationID: String, currency: Currency, days: [Instant], end: Instant, by dimension: ConsumptionDimension
    ) throws -> [DailyConsumptionGroup] {
        try ReportQueries.dailyConsumption(
            of: organisationID, currency: currency, days: days, end: end, by: dimension, on: sql)
    }

    func alertStates(of organisationID: String) throws -> [AlertState] {
        try AlertQueries.alertStates(of: organisationID, on: sql)
    }

    func alertsFired(of organisationID: String) throws -> [String] {
        try AlertQueries.alertsFired(of: organisationID, on: sql)
    }

    func dueAlertDeliveries(at instant: Instant, limit: Int) throws -> [AlertDelivery] {
        try AlertQueries.dueAlertDeliveries(at: instant, limit: limit, on: sql)
    }

    func alertDeliveriesAttempted(at instant: Instant) throws -> [AlertDelivery] {
        try AlertQueries.alertDeliveriesAttempted(at: instant, on: sql)
    }

    func alertDeliveries() throws -> [AlertDelivery] {
        try AlertQueries.alertDeliveries(on: sql)
    }
}
