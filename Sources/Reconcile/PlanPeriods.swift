import Foundation
import Ledger

/// One allocation period of a plan, in the organisation's calendar.
public struct PlanPeriod: Sendable, Hashable {
    /// `2026-11` for months, `FY2026-04` for a financial year starting April 2026.
    public let label: String
    public let start: LocalDate
    /// Exclusive.
    public let end: LocalDate

    /// The period of `plan` that contains `date`.
    public static func containing(_ date: LocalDate, plan: Plan) -> PlanPeriod {
        switch plan.period {
        case .month:
            let start = LocalDate(year: date.year, month: date.month, day: 1)!
            return PlanPeriod(label: "\(start.description.prefix(7))", start: start, end: start.firstOfMonth(addingMonths: 1))
        case .financialYear:
            let startMonth = plan.financialYearStartMonth
            let year = date.month >= startMonth ? date.year : date.year - 1
            let start = LocalDate(year: year, month: startMonth, day: 1)!
            let label = "FY\(year)-\(startMonth < 10 ? "0" : "")\(startMonth)"
            return PlanPeriod(label: label, start: start, end: start.firstOfMonth(addingMonths: 12))
        }
    }

    /// Every period from the one containing `first` through the one containing `last`.
    public static func sequence(from first: LocalDate, through last: LocalDate, plan: Plan) -> [PlanPeriod] {
        var periods: [PlanPeriod] = []
        var period = containing(first, plan: plan)
        while period.start <= last {
            periods.append(period)
            period = containing(period.end, plan: plan)
        }
        return periods
    }
}
