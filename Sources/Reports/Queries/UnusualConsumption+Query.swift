import Foundation
import Ledger

// The rule itself (`UnusualConsumptionRule`) lives in Ledger, shared with the unusual-consumption
// alert. The ratio shown in the report is consumption / baseline rounded half-even to two decimals.

extension PeriodReportQuery {
    /// The unusual days of `organisation` in `period`, by the rule, ordered by date, scope, name.
    public static func unusualConsumption(
        _ reader: any LedgerReads, period: ReportPeriod, organisation: Organisation,
        rule: UnusualConsumptionRule = UnusualConsumptionRule()
    ) throws -> [UnusualConsumption] {
        try unusualConsumption(
            OrganisationConsumption.read(reader, organisation: organisation, period: period, baselineDays: rule.baselineDays),
            organisation: organisation, rule: rule)
    }

    /// The unusual days in `consumption` (read with the rule's baseline days before the period).
    static func unusualConsumption(
        _ consumption: OrganisationConsumption, organisation: Organisation, rule: UnusualConsumptionRule
    ) throws -> [UnusualConsumption] {
        precondition(consumption.period.lowerBound == rule.baselineDays, "read with the rule's baseline days")
        var rows: [UnusualConsumption] = []
        for dimension in [ConsumptionDimension.team, .investigation] {
            rows += try flag(consumption.dailyGroups(by: dimension), days: consumption.days, rule: rule,
                             organisationID: organisation.id, scope: dimension.rawValue)
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
            guard let sum = baselineSums[entry.group.key], let baseline = rule.baseline(ofSum: sum),
                rule.isUnusual(used: entry.group.credits, baseline: baseline),
                let ratio = Checked.multiplyDivide(
                    entry.group.credits.microcredits, 100, baseline.microcredits, .halfEven)
            else { continue }
            flagged.append(UnusualConsumption(
                organisationID: organisationID, scope: scope, name: entry.group.key, date: days[entry.day],
                consumption: entry.group.credits, baseline: baseline,
                ratio: ExactDecimal(significand: ratio, scale: 2)))
        }
        return flagged
    }
}
