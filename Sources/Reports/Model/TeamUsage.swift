import Ledger

/// Consumption by one team over the period.
public struct TeamUsage: ReportRow, Hashable {
    public var organisationID: String
    public var team: String
    public var eventCount: Int64
    public var consumption: CreditsAndMoney
    /// The team's budget, when it has one.
    public var budget: BudgetFigures?

    public init(
        organisationID: String, team: String, eventCount: Int64, consumption: CreditsAndMoney,
        budget: BudgetFigures? = nil
    ) {
        self.organisationID = organisationID
        self.team = team
        self.eventCount = eventCount
        self.consumption = consumption
        self.budget = budget
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text, total: .label("Total")), ReportColumn("Team", .text, width: 24),
    ] + usageColumns + budgetColumns

    public var cells: [ReportCell] {
        [.text(organisationID), .text(team), .integer(eventCount)] + consumption.cells + budget.cells
    }
}

/// The three usage columns every breakdown ends with.
let usageColumns = [
    ReportColumn("Events", .integer, total: .sum), ReportColumn("Consumption credits", .credits, total: .sum),
    ReportColumn("Consumption money", .money, total: .sum),
]
