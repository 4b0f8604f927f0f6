import Foundation
import Ledger

/// What a configuration change changed.
public enum ConfigurationSubject: String, Codable, CaseIterable, Sendable {
    case RESERVATION, THRESHOLDS, BUDGET
}

/// One audited change of an organisation's reservations or thresholds.
public struct ConfigurationChangeView: Sendable {
    public let id: Identifier
    /// The ledger's row id, the order of the trail.
    let rowID: Int64
    public let changedAt: DateTime
    /// `key:<key id>` for an API key (the id is the first 16 hex digits of the key's SHA-256), or
    /// `config:<digest prefix>` when `credits init` replaced the value.
    public let actor: String
    public let subject: ConfigurationSubject
    public let reservationId: Identifier?
    /// Nil when the reservation did not exist before.
    public let oldValue: ConfigurationValueView?
    /// Nil when the reservation was removed.
    public let newValue: ConfigurationValueView?

    init(_ record: ConfigurationChangeRecord) {
        id = Identifier(String(record.id))
        rowID = record.id
        changedAt = DateTime(record.changedAt)
        actor = record.actor
        subject = switch record.subject {
        case .reservation: .RESERVATION
        case .thresholds: .THRESHOLDS
        case .budget: .BUDGET
        }
        // A budget's change names its key (`team:alpha`) here, as a reservation's names its id.
        reservationId = (record.reservationID ?? record.budgetKey).map { Identifier($0) }
        oldValue = record.oldValue.map(ConfigurationValueView.init)
        newValue = record.newValue.map(ConfigurationValueView.init)
    }
}

/// A reservation's terms (`credits`, `maxPriority`) or the thresholds (`lowBalanceCredits`,
/// `lowBalancePercent`, `runwayDays`); the fields of the other subject are null.
public struct ConfigurationValueView: Sendable {
    public let credits: CreditAmount?
    public let maxPriority: Int?
    public let lowBalanceCredits: CreditAmount?
    public let lowBalancePercent: Int?
    public let runwayDays: Int?

    init(_ value: ConfigurationValue) {
        switch value {
        case .reservation(let credits, let priority):
            self.credits = CreditAmount(credits)
            maxPriority = priority.rank
            lowBalanceCredits = nil
            lowBalancePercent = nil
            runwayDays = nil
        case .budget(let budget):
            // The budget's limit; its period and mode are in `budgets` (`BudgetView`).
            self.credits = CreditAmount(budget.limit)
            maxPriority = nil
            lowBalanceCredits = nil
            lowBalancePercent = nil
            runwayDays = nil
        case .thresholds(let thresholds):
            credits = nil
            maxPriority = nil
            lowBalanceCredits = thresholds.lowBalanceCredits.map(CreditAmount.init)
            lowBalancePercent = thresholds.lowBalancePercent
            runwayDays = thresholds.runwayDays
        }
    }
}
