import Ledger

/// A team's or investigation's budget as the report stands it: at the end of the report's period,
/// or at the report's making when the period has not ended (`LedgerReader.budgetStatuses`, the figures
/// GraphQL's `Organisation.budgets` shows, without open holds). Left is the limit less what was used,
/// negative once a soft budget was passed.
public struct BudgetFigures: Sendable, Hashable {
    public var limit: Credits
    public var mode: BudgetMode
    public var firstDay: LocalDate
    public var lastDay: LocalDate
    public var used: Credits
    public var left: Credits
    public var percentOfPeriodElapsed: ExactDecimal

    public init(_ status: BudgetStatus) {
        limit = status.budget.limit
        mode = status.budget.mode
        firstDay = status.firstDay
        lastDay = status.lastDay
        used = status.used
        left = status.left
        percentOfPeriodElapsed = status.percentOfPeriodElapsed
    }
}

/// The budget columns By team and By investigation end with; empty where the scope has no budget.
let budgetColumns = [
    ReportColumn("Budget credits", .credits), ReportColumn("Budget mode", .text, width: 8),
    ReportColumn("Budget from", .date), ReportColumn("Budget to", .date),
    ReportColumn("Budget used credits", .credits), ReportColumn("Budget left credits", .credits),
    ReportColumn("Budget period elapsed %", .decimal),
]

extension Optional where Wrapped == BudgetFigures {
    var cells: [ReportCell] {
        guard let figures = self else { return Array(repeating: .empty, count: budgetColumns.count) }
        return [
            .credits(figures.limit), .text(figures.mode.rawValue), .date(figures.firstDay), .date(figures.lastDay),
            .credits(figures.used), .credits(figures.left), .decimal(figures.percentOfPeriodElapsed),
        ]
    }
}
