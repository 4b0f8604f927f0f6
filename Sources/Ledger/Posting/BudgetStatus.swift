import Foundation

/// One budget's standing at an instant, as reports, GraphQL and alerts show it: the period it is in,
/// what was used and is held in it, what is left, and how much of the period has gone by.
///
/// "Used" is the same figure the budget rule measures a spend against (`scope_spend_days` over the
/// period's local days, up to and including the instant's day); "held" is what open holds on the
/// scope promise at the instant (only asked for live). A fixed range the instant lies outside shows
/// that range: before it starts nothing is used and 0% has elapsed; after it ends, all of it.
public struct BudgetStatus: Sendable, Hashable {
    public let budget: Budget
    /// The period's local days, first to last (inclusive).
    public let firstDay: LocalDate
    public let lastDay: LocalDate
    /// When the period ends and the next one starts (for a fixed range: when the budget stops limiting).
    public let resetsAt: Instant
    public let used: Credits
    public let held: Credits
    /// The share of the period's time gone by at the instant (its millisecond included), in percent to two
    /// places (rounded down), 0 to 100.
    public let percentOfPeriodElapsed: ExactDecimal
    /// Whether the instant lies in the period (false for a fixed range not yet begun or already ended).
    public let isCurrent: Bool

    /// The limit less what is used and held: negative once a soft budget was passed.
    public var left: Credits { Credits(microcredits: budget.limit.microcredits - used.microcredits - held.microcredits) }
}

extension LedgerReader {
    /// The standing of each of the organisation's budgets at `instant`, in budget key order. With
    /// `holds`, open holds at `instant` count as held (the live view); reports leave them out.
    public func budgetStatuses(of organisation: Organisation, at instant: Instant, holds: Bool) throws -> [BudgetStatus] {
        try BudgetStatus.statuses(of: organisation, at: instant, holds: holds, on: sql)
    }
}

extension BudgetStatus {
    /// See `LedgerReader.budgetStatuses(of:at:holds:)`; in portable SQL (either store).
    static func statuses(
        of organisation: Organisation, at instant: Instant, holds: Bool, on sql: some SQLSession
    ) throws -> [BudgetStatus] {
        guard let budgets = organisation.budgets, !budgets.isEmpty else { return [] }
        guard let zone = TimeZone(identifier: organisation.timeZone) else {
            preconditionFailure("organisation \(organisation.id) has a time zone configuration should have refused")
        }
        let held = holds ? try ScopeHolds.read(organisationID: organisation.id, at: instant, excluding: nil, in: sql) : .none
        let today = LocalDate.of(instant, in: zone)
        return try budgets.sorted { $0.key < $1.key }.map { budget in
            let days = budget.period.days(holding: today) ?? budget.period.span
            let start = LocalDate(daysSinceEpoch: days.lowerBound).startInstant(in: zone)
            let end = LocalDate(daysSinceEpoch: days.upperBound).startInstant(in: zone)
            // The period's days up to and including the instant's (none for a range not yet begun).
            let usedDays = days.lowerBound..<max(days.lowerBound, min(days.upperBound, today.daysSinceEpoch + 1))
            let used = usedDays.isEmpty ? Credits.zero
                : try BudgetQueries.used(organisation.id, budget.spendScope, days: usedDays, in: sql)
            return BudgetStatus(
                budget: budget, firstDay: LocalDate(daysSinceEpoch: days.lowerBound),
                lastDay: LocalDate(daysSinceEpoch: days.upperBound - 1), resetsAt: end, used: used,
                held: held.on(budget.spendScope), percentOfPeriodElapsed: percentElapsed(instant, of: start..<end),
                isCurrent: (start..<end).contains(instant))
        }
    }

    /// Percent of `period`'s milliseconds up to and including `instant`'s, to two places rounded down,
    /// 0 ... 100: the period's last millisecond (where a report of a closed month stands) is 100%.
    static func percentElapsed(_ instant: Instant, of period: Range<Instant>) -> ExactDecimal {
        let total = period.upperBound.millisecondsSinceEpoch - period.lowerBound.millisecondsSinceEpoch
        let gone = min(max(instant.millisecondsSinceEpoch - period.lowerBound.millisecondsSinceEpoch + 1, 0), total)
        let hundredths = total > 0 ? Checked.multiplyDivide(gone, 10_000, total, .towardZero) ?? 0 : 10_000
        return ExactDecimal(significand: hundredths, scale: 2)
    }
}

extension BudgetPeriod {
    /// For a fixed range, its days; the calendar periods hold every day, so `days(holding:)` always answers.
    var span: Range<Int> {
        guard case .range(let start, let end) = self else {
            preconditionFailure("only a fixed range has days outside its periods")
        }
        return start.daysSinceEpoch..<(end.daysSinceEpoch + 1)
    }
}
