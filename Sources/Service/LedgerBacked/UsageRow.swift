import Foundation
import Ledger

/// One group of `usage`: credits and their money cost.
public struct UsageRow: Codable, Sendable {
    public let key: String
    public let credits: CreditAmount
    public let money: MoneyView
    public let deductions: Int
}

/// How `usage` groups deductions.
public enum UsageGrouping: String, Codable, CaseIterable, Sendable {
    case TEAM, INVESTIGATION, OPERATION, DAY

    /// The report query's dimension; nil for DAY, which groups by local day instead.
    var dimension: ConsumptionDimension? {
        switch self {
        case .TEAM: .team
        case .INVESTIGATION: .investigation
        case .OPERATION: .operation
        case .DAY: nil
        }
    }
}
