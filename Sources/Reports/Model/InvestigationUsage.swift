import Ledger

/// Consumption by one investigation over the period.
public struct InvestigationUsage: ReportRow, Hashable {
    public var organisationID: String
    public var investigation: String
    /// 1 (P1, highest) to 4; nil when the investigation is not configured (or there is none).
    public var priority: Int?
    public var eventCount: Int64
    public var consumption: CreditsAndMoney
    /// The investigation's budget, when it has one.
    public var budget: BudgetFigures?

    public init(
        organisationID: String, investigation: String, priority: Int?, eventCount: Int64,
        consumption: CreditsAndMoney, budget: BudgetFigures? = nil
    ) {
        self.organisationID = organisationID
        self.investigation = investigation
        self.priority = priority
        self.eventCount = eventCount
        self.consumption = consumption
        self.budget = budget
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")),
        ReportColumn("Investigation", .text, width: 28), ReportColumn("Priority", .text, width: 9),
    ] + usageColumns + budgetColumns

    public var cells: [ReportCell] {
        [.text(organisationID), .text(investigation), priority.map { .text("P\($0)") } ?? .empty, .integer(eventCount)]
            + consumption.cells + budget.cells
    }
}
