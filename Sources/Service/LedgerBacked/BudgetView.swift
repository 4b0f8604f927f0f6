import Foundation
import Ledger

/// The scope a budget limits, as the API names it.
public enum BudgetScopeKind: String, Codable, CaseIterable, Sendable {
    case ORGANISATION, TEAM, INVESTIGATION

    init(_ kind: SpendScopeKind) {
        self = switch kind {
        case .organisation: .ORGANISATION
        case .team: .TEAM
        case .investigation: .INVESTIGATION
        }
    }

    var ledger: SpendScopeKind {
        switch self {
        case .ORGANISATION: .organisation
        case .TEAM: .team
        case .INVESTIGATION: .investigation
        }
    }
}

/// Whether a budget refuses (`HARD`) or flags (`SOFT`) spending past it.
public enum BudgetModeKind: String, Codable, CaseIterable, Sendable {
    case HARD, SOFT

    init(_ mode: BudgetMode) { self = mode == .hard ? .HARD : .SOFT }
    var ledger: BudgetMode { self == .HARD ? .hard : .soft }
}

/// The calendar of a budget's periods.
public enum BudgetPeriodKind: String, Codable, CaseIterable, Sendable {
    case MONTH, FINANCIAL_YEAR, RANGE
}

/// One budget and how it stands now (`LedgerReader.budgetStatuses`, with open holds).
public struct BudgetView: Sendable {
    public let scope: BudgetScopeKind
    public let scopeId: Identifier
    public let limit: CreditAmount
    public let mode: BudgetModeKind
    public let period: BudgetPeriodKind
    public let financialYearStartMonth: Int?
    public let periodFrom: String
    public let periodTo: String
    public let resetsAt: DateTime
    public let current: Bool
    public let used: CreditAmount
    public let held: CreditAmount
    public let left: CreditAmount
    public let percentOfPeriodElapsed: Double
    public let alertPercents: [Int]

    init(_ status: BudgetStatus) {
        let budget = status.budget
        scope = BudgetScopeKind(budget.scope)
        scopeId = Identifier(budget.scopeID)
        limit = CreditAmount(budget.limit)
        mode = BudgetModeKind(budget.mode)
        switch budget.period {
        case .month:
            period = .MONTH
            financialYearStartMonth = nil
        case .financialYear(let startMonth):
            period = .FINANCIAL_YEAR
            financialYearStartMonth = startMonth
        case .range:
            period = .RANGE
            financialYearStartMonth = nil
        }
        periodFrom = status.firstDay.description
        periodTo = status.lastDay.description
        resetsAt = DateTime(status.resetsAt)
        current = status.isCurrent
        used = CreditAmount(status.used)
        held = CreditAmount(status.held)
        left = CreditAmount(status.left)
        percentOfPeriodElapsed = Double(status.percentOfPeriodElapsed.significand) / 100
        alertPercents = budget.alertPercents
    }
}
