import Foundation

/// A budget: at most `limit` credits of usage per period for one scope of an organisation (the
/// organisation itself, one team or one investigation), `hard` (spending past it is refused) or
/// `soft` (charged, flagged and alerted).
///
/// Periods are whole local days of the organisation's time zone, so a period rolls over by the
/// calendar with no job: the period that applies to a spend is the one holding its effective time.
/// Budgets nest: an investigation's usage also counts against its team's and organisation's
/// budgets, and the tightest budget on the path decides (`BudgetRule`). One budget per scope.
public struct Budget: Sendable, Hashable, Codable {
    public var scope: SpendScopeKind
    /// The organisation's, team's or investigation's id.
    public var scopeID: String
    public var limit: Credits
    public var period: BudgetPeriod
    public var mode: BudgetMode
    /// Percentages of the limit at which alerts fire, once per crossing (1 ... 1000, ascending).
    public var alertPercents: [Int]

    /// The alert percentages a budget gets when its configuration names none.
    public static let alertPercentsDefault = [80, 100]

    public init(
        scope: SpendScopeKind, scopeID: String, limit: Credits, period: BudgetPeriod, mode: BudgetMode,
        alertPercents: [Int] = Budget.alertPercentsDefault
    ) {
        self.scope = scope
        self.scopeID = scopeID
        self.limit = limit
        self.period = period
        self.mode = mode
        self.alertPercents = alertPercents
    }

    /// The scope this budget limits.
    public var spendScope: SpendScope { SpendScope(scope, id: scopeID) }

    /// The key budgets are stored and audited under: `team:alpha`.
    public var key: String { "\(scope.rawValue):\(scopeID)" }

    private enum CodingKeys: String, CodingKey {
        case scope, scopeID = "scope_id", limit, period, mode, alertPercents = "alert_percents"
    }
}

public enum BudgetMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Spending past the limit is refused (402 live, `budgetExceeded` finding in batch).
    case hard
    /// Spending past the limit is charged, flagged (`budgetSoftExceeded`) and alerted.
    case soft
}

/// The calendar a budget's periods follow, in the organisation's time zone.
public enum BudgetPeriod: Sendable, Hashable, Codable {
    /// Calendar months.
    case month
    /// Financial years starting on the first of `startMonth` (1-12).
    case financialYear(startMonth: Int)
    /// One fixed span of local days, `start` to `end` inclusive; outside it the budget limits nothing.
    case range(start: LocalDate, end: LocalDate)

    /// The month a financial-year budget starts in: its own, else its organisation's plan's, else
    /// January (the calendar year). The one rule `organisations.yaml` and `setBudget` both follow.
    public static func financialYearStartMonth(own: Int?, plan: Int?) -> Int { own ?? plan ?? 1 }

    /// The local days (half-open, as days since the epoch) of the period holding `date`; nil when
    /// no period holds it (a fixed range that does not).
    public func days(holding date: LocalDate) -> Range<Int>? {
        switch self {
        case .month:
            let first = date.firstOfMonth(addingMonths: 0)
            return first.daysSinceEpoch..<first.firstOfMonth(addingMonths: 1).daysSinceEpoch
        case .financialYear(let startMonth):
            precondition((1...12).contains(startMonth), "a financial year starts in month 1 to 12")
            let back = (date.month - startMonth + 12) % 12
            let first = date.firstOfMonth(addingMonths: -back)
            return first.daysSinceEpoch..<first.firstOfMonth(addingMonths: 12).daysSinceEpoch
        case .range(let start, let end):
            guard start <= date, date <= end else { return nil }
            return start.daysSinceEpoch..<(end.daysSinceEpoch + 1)
        }
    }

    /// Whether some day lies in a period of both (only two fixed ranges can miss each other).
    func overlaps(_ other: BudgetPeriod) -> Bool {
        switch (self, other) {
        case (.range(let a, let b), .range(let c, let d)): return a <= d && c <= b
        default: return true
        }
    }

    public var name: String {
        switch self {
        case .month: "month"
        case .financialYear: "financial_year"
        case .range: "range"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case kind, startMonth = "start_month", start, end
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .kind) {
        case "month": self = .month
        case "financial_year": self = .financialYear(startMonth: try container.decode(Int.self, forKey: .startMonth))
        case "range":
            self = .range(start: try container.decode(LocalDate.self, forKey: .start),
                          end: try container.decode(LocalDate.self, forKey: .end))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "no period \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .kind)
        switch self {
        case .month: break
        case .financialYear(let startMonth): try container.encode(startMonth, forKey: .startMonth)
        case .range(let start, let end):
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
        }
    }
}

extension Budget {
    /// The half-open instants of the period holding `instant` in `timeZone`; nil when none does.
    public func window(holding instant: Instant, in timeZone: TimeZone) -> (days: Range<Int>, instants: Range<Instant>)? {
        guard let days = period.days(holding: LocalDate.of(instant, in: timeZone)) else { return nil }
        let start = LocalDate(daysSinceEpoch: days.lowerBound).startInstant(in: timeZone)
        let end = LocalDate(daysSinceEpoch: days.upperBound).startInstant(in: timeZone)
        return (days, start..<end)
    }
}

/// Which budgets of an organisation nest inside which: an investigation's inside its team's and the
/// organisation's, a team's inside the organisation's. The configuration check that a child's limit
/// does not exceed its parent's for an overlapping period uses it, as does `BudgetRule`.
public enum BudgetNesting {
    /// The parents of `budget` among `budgets` (given the investigations' teams).
    public static func parents(of budget: Budget, in budgets: [Budget], teamOf: (String) -> String?) -> [Budget] {
        switch budget.scope {
        case .organisation: return []
        case .team: return budgets.filter { $0.scope == .organisation }
        case .investigation:
            let team = teamOf(budget.scopeID)
            return budgets.filter { $0.scope == .organisation || ($0.scope == .team && $0.scopeID == team) }
        }
    }

    /// The first child whose limit exceeds an overlapping parent's, with that parent.
    public static func violation(in budgets: [Budget], teamOf: (String) -> String?) -> (child: Budget, parent: Budget)? {
        for child in budgets {
            for parent in parents(of: child, in: budgets, teamOf: teamOf)
            where parent.period.overlaps(child.period) && child.limit > parent.limit {
                return (child, parent)
            }
        }
        return nil
    }
}
