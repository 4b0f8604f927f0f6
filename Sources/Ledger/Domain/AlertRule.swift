/// The alert rules, named as they are stored and sent (docs/ALERTS.md states each exactly).
public enum AlertRule: String, Sendable, Hashable, Codable, CaseIterable {
    /// The available balance is below the organisation's low-balance threshold.
    case lowBalance = "low_balance"
    /// Fewer days of spendable balance remain, at the trailing burn rate, than `runway_days`.
    case runway
    /// A team or investigation spent far above its own baseline on the last complete day.
    case unusualConsumption = "unusual_consumption"
    /// A budget's use in its current period reached one of its alert percentages (subject
    /// `<scope>:<id>@<percent>%`, one per percentage, so each crossing fires once).
    case budget

    /// Whether clearing sends a `credits.alert.resolved` delivery (an unusual day simply passes).
    public var sendsResolved: Bool {
        switch self {
        case .lowBalance, .runway, .budget: true
        case .unusualConsumption: false
        }
    }
}
