import Foundation
import Ledger

/// The stated rule for the "Unusual consumption" sheet.
///
/// A team's (or investigation's) baseline is its mean daily consumption over the `baselineDays`
/// local days before the period: their sum divided by `baselineDays`, rounded half-even to the
/// micro-credit. A day of the period is unusual when that day's consumption is at least
/// `ratioMin` times the baseline and at least `creditsMin`. Groups with no consumption in the
/// baseline days have no baseline and are not flagged, and consumption recorded without a team
/// or investigation is not attributed to one. The ratio shown is consumption / baseline rounded
/// half-even to two decimals.
public struct UnusualConsumptionRule: Sendable, Hashable {
    public var baselineDays: Int
    public var ratioMin: Int64
    public var creditsMin: Credits

    public init(baselineDays: Int = 28, ratioMin: Int64 = 3, creditsMin: Credits = Credits(100)) {
        precondition(baselineDays > 0 && ratioMin > 0, "invalid unusual-consumption rule")
        self.baselineDays = baselineDays
        self.ratioMin = ratioMin
        self.creditsMin = creditsMin
    }
}

extension PeriodReportQuery {
    /// The unusual days of `organisation` in `period`, by the rule, ordered by date, scope, name.
    public static func unusualConsumption(
        _ reader: LedgerReader, period: ReportPeriod, organisation: Organisation,
        rule: UnusualConsumptionRule = UnusualConsumptionRule()
    ) throws -> [UnusualConsumption] {
        let zone = try timeZone(organisation)
        let days = (-rule.baselineDays..<0).map { period.firstDay.adding(days: $0) } + period.days
        let starts = days.map { $0.startInstant(in: zone) }
        let end = period.lastDay.adding(days: 1).startInstant(in: zone)
        var rows: [UnusualConsumption] = []
        for dimension in [ConsumptionDimension.team, .investigation] {
            let groups = try reader.dailyConsumption(of: organisation.id, currency: organisation.currency,
                                                     days: starts, end: end, by: dimension)
            rows += try flag(groups, days: days, rule: rule, organisationID: organisation.id,
                             scope: dimension.rawValue)
        }
        return rows.sorted { ($0.date, $0.scope, $0.name) < ($1.date, $1.scope, $1.name) }
    }

    static func flag(
        _ groups: [DailyConsumptionGroup], days: [LocalDate], rule: UnusualConsumptionRule, organisationID: String,
        scope: String
    ) throws -> [UnusualConsumption] {
        var baselineSums: [String: Int64] = [:]
        for entry in groups where entry.day < rule.baselineDays && !entry.group.key.isEmpty {
            baselineSums[entry.group.key] = try Checked.add(baselineSums[entry.group.key] ?? 0,
                                                            entry.group.credits.microcredits)
        }
        var flagged: [UnusualConsumption] = []
        for entry in groups where entry.day >= rule.baselineDays && !entry.group.key.isEmpty {
            guard let sum = baselineSums[entry.group.key],
                let baseline = Checked.divide(sum, by: Int64(rule.baselineDays), .halfEven), baseline > 0
            else { continue }
            let used = entry.group.credits.microcredits
            guard used >= rule.creditsMin.microcredits, used >= (try Checked.multiply(baseline, rule.ratioMin)),
                let ratio = Checked.multiplyDivide(used, 100, baseline, .halfEven)
            else { continue }
            flagged.append(UnusualConsumption(
                organisationID: organisationID, scope: scope, name: entry.group.key, date: days[entry.day],
                consumption: entry.group.credits, baseline: Credits(microcredits: baseline),
                ratio: ExactDecimal(significand: ratio, scale: 2)))
        }
        return flagged
    }
}
