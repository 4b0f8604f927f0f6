// Builds a `PeriodReport` from the ledger (through Ledger's read queries; no SQL here).
//
// Method: per organisation, the period is the organisation's local days `firstDay...lastDay` in
// its own time zone, i.e. the window [start of firstDay, start of the day after lastDay). Every
// figure is a signed sum over that organisation's transfers, and the money of consumption is each
// deduction's own recorded cost (its grants' cost basis), so team, investigation, operation and
// daily rows sum exactly to the organisation's consumption in credits and in minor units without
// any allocation step. Both identities of Invariant 6 are checked before a report is returned.
import Foundation
import Ledger

/// Why a report could not be built.
public struct ReportQueryError: ClassifiedError, Equatable {
    public enum Reason: Sendable, Equatable {
        /// `--org` named an organisation that is not configured.
        case organisationNotFound
        /// The organisation's time zone is not a known IANA zone.
        case unknownTimeZone
        /// opening + in - out != closing, or the breakdowns do not sum to the total: a ledger bug.
        case tieOutFailed
    }

    public let reason: Reason
    public let organisationID: String
    public let detail: String

    init(_ reason: Reason, organisationID: String, detail: String = "") {
        self.reason = reason
        self.organisationID = organisationID
        self.detail = detail
    }

    public var failureClass: FailureClass {
        switch reason {
        case .organisationNotFound: .inputMissing
        case .unknownTimeZone: .badData
        case .tieOutFailed: .internal
        }
    }

    public var description: String {
        switch reason {
        case .organisationNotFound: "no organisation \(organisationID) is configured"
        case .unknownTimeZone: "organisation \(organisationID): unknown time zone \(detail)"
        case .tieOutFailed:
            "organisation \(organisationID): report does not tie out (\(detail)); run `credits ledger verify`"
        }
    }
}

/// Reads period reports out of the ledger.
public enum PeriodReportQuery {
    /// The organisations to report on: `ids` in the given order, or every organisation by id.
    public static func organisations(_ reader: any LedgerReads, ids: [String]?) throws -> [Organisation] {
        guard let ids else { return try reader.organisations() }
        return try ids.map { id in
            guard let organisation = try reader.organisation(id) else {
                throw ReportQueryError(.organisationNotFound, organisationID: id)
            }
            return organisation
        }
    }

    /// The organisation's window for the period: its local midnights, in its time zone.
    public static func window(_ period: ReportPeriod, for organisation: Organisation) throws -> ReportWindow {
        let zone = try timeZone(organisation)
        return ReportWindow(start: period.firstDay.startInstant(in: zone),
                            end: period.lastDay.adding(days: 1).startInstant(in: zone))
    }

    static func timeZone(_ organisation: Organisation) throws -> TimeZone {
        guard let zone = TimeZone(identifier: organisation.timeZone) else {
            throw ReportQueryError(.unknownTimeZone, organisationID: organisation.id, detail: organisation.timeZone)
        }
        return zone
    }

    /// The latest reconcile plan's findings that need a person (`exception`) or are waiting too
    /// long (`aged`), in plan order: those of `organisationIDs`, or every one (including those tied
    /// to no organisation) when `organisationIDs` is nil. Empty before the first reconcile.
    public static func reconciliationExceptions(
        _ reader: any LedgerReads, organisationIDs: [String]?
    ) throws -> [ReconciliationException] {
        guard let plan = try reader.latestPlanFindings() else { return [] }
        let wanted = organisationIDs.map(Set.init)
        return plan.findings.filter { finding in
            guard finding.severity == .exception || finding.severity == .aged else { return false }
            guard let wanted else { return true }
            return finding.organisationID.map(wanted.contains) ?? false
        }.map { finding in
            ReconciliationException(
                organisationID: finding.organisationID ?? "", severity: finding.severity, reference: finding.subject,
                code: finding.code, detail: finding.detail, observedAt: plan.asOf)
        }
    }

    /// Builds the report. Call inside one `LedgerDatabase.read` so every figure comes from the
    /// same snapshot. `exceptions` come from the reconcile stage (`reconciliationExceptions`).
    public static func report(
        _ reader: any LedgerReads, period: ReportPeriod, organisations: [Organisation], generatedAt: Instant,
        exceptions: [ReconciliationException] = [], unusualRule: UnusualConsumptionRule = UnusualConsumptionRule()
    ) throws -> PeriodReport {
        var report = PeriodReport(period: period, generatedAt: generatedAt, summary: [],
                                  reconciliationExceptions: exceptions)
        for organisation in organisations {
            let window = try window(period, for: organisation)
            let summary = try summary(reader, organisation: organisation, window: window)
            try checkTieOut(summary)
            report.summary.append(summary)
            let consumption = try OrganisationConsumption.read(
                reader, organisation: organisation, period: period, baselineDays: unusualRule.baselineDays)
            try appendBreakdowns(reader, organisation: organisation, window: window, consumption: consumption,
                                 expected: summary.consumption, to: &report)
            report.dailyTrend += try daily(consumption, organisation: organisation)
            report.unusualConsumption += try unusualConsumption(consumption, organisation: organisation,
                                                                rule: unusualRule)
        }
        return report
    }

    static func summary(
        _ reader: any LedgerReads, organisation: Organisation, window: ReportWindow
    ) throws -> OrganisationSummary {
        let currency = organisation.currency
        let opening = try reader.balance(of: organisation.id, currency: currency, before: window.start)
        let closing = try reader.balance(of: organisation.id, currency: currency, before: window.end)
        let flows = try reader.netFlows(of: organisation.id, currency: currency, in: window)
        func net(_ kind: TransferKind, outflow: Bool = false) -> CreditsAndMoney {
            let flow = flows[kind] ?? .zero(currency)
            // Outflows are shown as magnitudes; the net of an outflow kind is negative.
            return outflow ? CreditsAndMoney(credits: flow.credits.negated, money: negate(flow.money))
                : CreditsAndMoney(credits: flow.credits, money: flow.money)
        }
        return OrganisationSummary(
            organisationID: organisation.id, organisationName: organisation.name,
            opening: CreditsAndMoney(credits: opening.credits, money: opening.money), allocations: net(.allocation),
            topUps: net(.topUp), consumption: net(.deduction, outflow: true), expiries: net(.expiry, outflow: true),
            reversals: net(.reversal), adjustments: net(.adjustment),
            closing: CreditsAndMoney(credits: closing.credits, money: closing.money))
    }

    static func negate(_ money: Money) -> Money { Money(minorUnits: -money.minorUnits, currency: money.currency) }

    static func checkTieOut(_ summary: OrganisationSummary) throws {
        guard summary.tiesOut else {
            throw ReportQueryError(.tieOutFailed, organisationID: summary.organisationID,
                                   detail: "opening + in - out != closing")
        }
    }

    static func appendBreakdowns(
        _ reader: any LedgerReads, organisation: Organisation, window: ReportWindow, consumption: OrganisationConsumption,
        expected: CreditsAndMoney, to report: inout PeriodReport
    ) throws {
        let id = organisation.id
        let currency = organisation.currency
        let teams = try consumption.groups(by: .team)
        let investigations = try consumption.groups(by: .investigation)
        let operations = try consumption.groups(by: .operation)
        for (name, groups) in [("team", teams), ("investigation", investigations), ("operation", operations)] {
            try checkSum(groups, equals: expected, organisationID: id, breakdown: name)
        }
        let priorities = Dictionary(organisation.investigations.map { ($0.id, $0.priority.rank) },
                                    uniquingKeysWith: { first, _ in first })
        let budgets = try budgetFigures(reader, organisation: organisation,
                                        at: min(window.end.adding(milliseconds: -1), report.generatedAt))
        report.byTeam += withBudgetedScopes(teams, budgeted: budgets.teams.keys, currency: currency).map {
            TeamUsage(organisationID: id, team: $0.key, eventCount: $0.eventCount, consumption: amount($0),
                      budget: budgets.teams[$0.key])
        }
        report.byInvestigation += withBudgetedScopes(
            investigations, budgeted: budgets.investigations.keys, currency: currency
        ).map {
            InvestigationUsage(organisationID: id, investigation: $0.key, priority: priorities[$0.key],
                               eventCount: $0.eventCount, consumption: amount($0),
                               budget: budgets.investigations[$0.key])
        }
        report.byOperation += operations.map {
            OperationUsage(organisationID: id, operation: $0.key, eventCount: $0.eventCount, consumption: amount($0))
        }
    }

    /// The organisation's team and investigation budgets as they stand at `instant`.
    static func budgetFigures(
        _ reader: any LedgerReads, organisation: Organisation, at instant: Instant
    ) throws -> (teams: [String: BudgetFigures], investigations: [String: BudgetFigures]) {
        var teams: [String: BudgetFigures] = [:]
        var investigations: [String: BudgetFigures] = [:]
        for status in try reader.budgetStatuses(of: organisation, at: instant, holds: false) {
            switch status.budget.scope {
            case .organisation: continue
            case .team: teams[status.budget.scopeID] = BudgetFigures(status)
            case .investigation: investigations[status.budget.scopeID] = BudgetFigures(status)
            }
        }
        return (teams, investigations)
    }

    /// `groups` and a zero row for each budgeted scope without consumption, so every budget shows, in
    /// the ledger's key order (bytes of UTF-8, as SQLite's `ORDER BY` gives the groups).
    static func withBudgetedScopes(
        _ groups: [ConsumptionGroup], budgeted: Dictionary<String, BudgetFigures>.Keys, currency: Currency
    ) -> [ConsumptionGroup] {
        let present = Set(groups.map(\.key))
        let missing = budgeted.filter { !present.contains($0) }
        guard !missing.isEmpty else { return groups }
        let zeros = missing.map {
            ConsumptionGroup(key: $0, eventCount: 0, credits: .zero, money: .zero(currency))
        }
        return (groups + zeros).sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
    }

    static func amount(_ group: ConsumptionGroup) -> CreditsAndMoney {
        CreditsAndMoney(credits: group.credits, money: group.money)
    }

    static func checkSum(
        _ groups: [ConsumptionGroup], equals expected: CreditsAndMoney, organisationID: String, breakdown: String
    ) throws {
        let credits = try Checked.sum(groups.map(\.credits.microcredits))
        let money = try Checked.sum(groups.map(\.money.minorUnits))
        guard credits == expected.credits.microcredits, money == expected.money.minorUnits else {
            throw ReportQueryError(.tieOutFailed, organisationID: organisationID,
                                   detail: "\(breakdown) rows do not sum to the consumption")
        }
    }

    static func daily(_ consumption: OrganisationConsumption, organisation: Organisation) throws -> [DailyUsage] {
        try zip(consumption.period, consumption.daily()).map { day, group in
            DailyUsage(organisationID: organisation.id, date: consumption.days[day], eventCount: group.eventCount,
                       consumption: amount(group))
        }
    }

    /// The period's transfers of `organisations`, organisation by organisation, each in posting
    /// time order (then transfer id); a usage run as one row per event it charged (`runDetails`). The
    /// stream reads through `reader`, so it must be consumed inside the same `read` call.
    public static func details(
        _ reader: any LedgerReads, period: ReportPeriod, organisations: [Organisation]
    ) throws -> TransferDetailStream {
        let windows = try organisations.map { ($0.id, try window(period, for: $0)) }
        let count = try windows.reduce(0) { $0 + (try reader.detailRowCount(of: $1.0, in: $1.1)) }
        return TransferDetailStream(count: count) { body in
            for (id, window) in windows {
                try reader.forEachTransfer(of: id, in: window) { transfer in
                    guard IdempotencyKey.isUsageRun(transfer.idempotencyKey) else { return try body(detail(transfer)) }
                    try runDetails(transfer, reader: reader, body)
                }
            }
        }
    }

    /// A usage run's events, each a row as its own deduction would have been: the run's transfer id
    /// and key, the event's time, attribution, credits and cost, and the balance before and after it
    /// within the run (the run's balance before, less the events charged before it).
    static func runDetails(
        _ run: Transfer, reader: any LedgerReads, _ body: (TransferDetail) throws -> Void
    ) throws {
        var before = run.balanceBefore
        try reader.forEachCharge(ofUsageRun: run.id, currency: run.money.currency) { charge in
            let after = try before.subtracting(charge.credits)
            var row = detail(run)
            row.postedAt = charge.occurredAt
            row.credits = charge.credits
            row.cost = charge.cost
            row.costEventID = charge.eventID
            row.team = charge.team
            row.investigation = charge.investigation
            row.operation = charge.operation
            row.balanceBefore = before
            row.balanceAfter = after
            try body(row)
            before = after
        }
    }

    static func detail(_ transfer: Transfer) -> TransferDetail {
        let references = transfer.references
        return TransferDetail(
            transferID: transfer.id, postedAt: transfer.effectiveAt, kind: transfer.kind,
            organisationID: transfer.organisationID, debitAccount: transfer.debitAccount,
            creditAccount: transfer.creditAccount, credits: transfer.amount, cost: transfer.money,
            idempotencyKey: transfer.idempotencyKey, costEventID: references.costEventID,
            revolutOrderID: references.revolutOrderID, team: references.team, investigation: references.investigation,
            operation: references.operation, planPeriod: references.planPeriod, memo: references.memo,
            balanceBefore: transfer.balanceBefore, balanceAfter: transfer.balanceAfter, actor: transfer.actor)
    }
}
