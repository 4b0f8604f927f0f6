import Ledger

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
