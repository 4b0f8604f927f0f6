import Foundation
import Ledger

/// Reads the ledger as of one instant and turns each organisation's thresholds into observations.
/// It never reads the wall clock: `asOf` is injected (the stage's `--now` or clock).
///
/// Every comparison is on exact integers (micro-credits and milliseconds); docs/ALERTS.md states
/// each rule.
public struct AlertEvaluator {
    let reader: any LedgerReads
    let asOf: Instant
    let unusualRule: UnusualConsumptionRule

    public init(reader: any LedgerReads, asOf: Instant, unusualRule: UnusualConsumptionRule = UnusualConsumptionRule()) {
        self.reader = reader
        self.asOf = asOf
        self.unusualRule = unusualRule
    }

    /// Every observation for `organisation`: its balance, its runway, and each team and
    /// investigation with consumption in the baseline or on the judged day.
    public func observations(for organisation: Organisation) throws -> [AlertObservation] {
        let available = try reader.available(of: organisation.id, at: asOf)
        var result: [AlertObservation] = []
        if let low = try lowBalance(organisation, available: available) { result.append(low) }
        if let runway = try runway(organisation, available: available) { result.append(runway) }
        result += try unusualConsumption(organisation)
        result += try budgets(organisation)
        return result
    }

    /// Budgets: for each budget whose period holds `asOf`, one observation per alert percentage,
    /// breached when the period's charged use is at least that share of the limit (half-even to the
    /// micro-credit). A new period starts from its own use, so a crossing clears when the period rolls.
    func budgets(_ organisation: Organisation) throws -> [AlertObservation] {
        var result: [AlertObservation] = []
        for status in try reader.budgetStatuses(of: organisation, at: asOf, holds: false) where status.isCurrent {
            let budget = status.budget
            let used = status.used
            for percent in budget.alertPercents {
                guard let micro = Checked.multiplyDivide(budget.limit.microcredits, Int64(percent), 100, .halfEven)
                else { continue }
                let threshold = Credits(microcredits: micro)
                result.append(AlertObservation(
                    rule: .budget, subject: "\(budget.key)@\(percent)%", breached: used >= threshold,
                    value: used.description, threshold: threshold.description, unit: "credits", runOutDate: nil,
                    detail: "\(used) of the \(budget.mode.rawValue) \(budget.key) budget of \(budget.limit) used "
                        + "(\(percent)% is \(threshold)); the period resets at \(status.resetsAt.iso8601)"))
            }
        }
        return result
    }

    /// Low balance: available < the higher of the absolute threshold and the percentage of the
    /// plan's credits per period (half-even to the micro-credit).
    func lowBalance(_ organisation: Organisation, available: Credits) throws -> AlertObservation? {
        var candidates: [(threshold: Credits, basis: String)] = []
        if let absolute = organisation.thresholds.lowBalanceCredits {
            candidates.append((absolute, "low_balance_credits \(absolute)"))
        }
        if let percent = organisation.thresholds.lowBalancePercent,
            let allocation = try organisation.planID.flatMap({ try reader.plan($0) })?.creditsPerPeriod,
            let micro = Checked.multiplyDivide(allocation.microcredits, Int64(percent), 100, .halfEven) {
            candidates.append((Credits(microcredits: micro), "\(percent)% of the period allocation of \(allocation)"))
        }
        guard let chosen = candidates.max(by: { $0.threshold < $1.threshold }) else { return nil }
        return AlertObservation(
            rule: .lowBalance, subject: "balance", breached: available < chosen.threshold,
            value: available.description, threshold: chosen.threshold.description, unit: "credits", runOutDate: nil,
            detail: "available \(available) credits; threshold \(chosen.basis)")
    }

    /// Runway, by the shared `Runway` rule: spendable (available minus every reservation, at least
    /// zero) at the burn rate of the trailing window is below `runway_days`. No burn means no runway
    /// alert.
    func runway(_ organisation: Organisation, available: Credits) throws -> AlertObservation? {
        guard let days = organisation.thresholds.runwayDays else { return nil }
        let reserved = try Checked.sum(organisation.reservations.map(\.credits.microcredits))
        let spendable = Credits(microcredits: try Checked.subtract(available.microcredits, reserved))
        let runway = try reader.runway(of: organisation.id, spendable: spendable, asOf: asOf)
        guard let tenths = runway.tenthsOfDays, let runOutAt = runway.runOut(after: asOf) else {
            return AlertObservation(
                rule: .runway, subject: "balance", breached: false, value: "none", threshold: String(days),
                unit: "days", runOutDate: nil, detail: "no deductions in the last \(Runway.windowDays) days")
        }
        return AlertObservation(
            rule: .runway, subject: "balance", breached: runway.isShorter(thanDays: days),
            value: DecimalFormat.string(units: tenths, places: 1),
            threshold: String(days), unit: "days", runOutDate: LocalDate.of(runOutAt, in: zone(organisation)),
            detail: "spendable \(runway.spendable) credits at \(runway.burn) credits per \(Runway.windowDays) days")
    }

    /// Unusual consumption, by the shared `UnusualConsumptionRule`, for the last complete local
    /// day before `asOf` (a partial day would understate the spend), per team and investigation.
    func unusualConsumption(_ organisation: Organisation) throws -> [AlertObservation] {
        let zone = zone(organisation)
        let judged = LocalDate.of(asOf, in: zone).adding(days: -1)
        let days = (-unusualRule.baselineDays...0).map { judged.adding(days: $0) }
        let end = judged.adding(days: 1).startInstant(in: zone)
        var result: [AlertObservation] = []
        for dimension in [ConsumptionDimension.team, .investigation] {
            let groups = try reader.dailyConsumption(
                of: organisation.id, currency: organisation.currency, days: days.map { $0.startInstant(in: zone) },
                end: end, by: dimension)
            result += try judge(groups, scope: dimension.rawValue, day: judged)
        }
        return result
    }

    /// One observation per key with consumption in the window; day index `baselineDays` is the judged day.
    private func judge(_ groups: [DailyConsumptionGroup], scope: String, day: LocalDate) throws -> [AlertObservation] {
        var sums: [String: Int64] = [:]
        var used: [String: Credits] = [:]
        for entry in groups where !entry.group.key.isEmpty {
            if entry.day < unusualRule.baselineDays {
                sums[entry.group.key] = try Checked.add(sums[entry.group.key] ?? 0, entry.group.credits.microcredits)
            } else {
                used[entry.group.key] = entry.group.credits
            }
        }
        return Set(sums.keys).union(used.keys).sorted().map { key in
            let spent = used[key] ?? .zero
            let baseline = unusualRule.baseline(ofSum: sums[key] ?? 0)
            return AlertObservation(
                rule: .unusualConsumption, subject: "\(scope):\(key)",
                breached: baseline.map { unusualRule.isUnusual(used: spent, baseline: $0) } ?? false,
                value: spent.description, threshold: threshold(baseline).description, unit: "credits",
                runOutDate: nil,
                detail: "\(spent) credits on \(day) against a \(unusualRule.baselineDays)-day baseline of "
                    + "\(baseline ?? .zero) per day")
        }
    }

    /// The least consumption that is unusual: max(ratio x baseline, creditsMin).
    private func threshold(_ baseline: Credits?) -> Credits {
        guard let baseline else { return unusualRule.creditsMin }
        let (scaled, overflow) = baseline.microcredits.multipliedReportingOverflow(by: unusualRule.ratioMin)
        return overflow ? Credits(microcredits: Int64.max) : max(unusualRule.creditsMin, Credits(microcredits: scaled))
    }

    private func zone(_ organisation: Organisation) -> TimeZone {
        TimeZone(identifier: organisation.timeZone) ?? TimeZone(identifier: "UTC")!
    }
}
