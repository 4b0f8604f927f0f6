import Graphiti
import Ledger

/// The kind of a ledger transfer as a GraphQL enum (`TOP_UP` is the ledger's `top_up`). Both mappings are
/// exhaustive switches, so a new ledger kind does not compile until the API says how to show it.
public enum TransactionKind: String, Codable, CaseIterable, Sendable {
    case ALLOCATION, TOP_UP, DEDUCTION, EXPIRY, REVERSAL, ADJUSTMENT

    init(_ kind: TransferKind) {
        switch kind {
        case .allocation: self = .ALLOCATION
        case .topUp: self = .TOP_UP
        case .deduction: self = .DEDUCTION
        case .expiry: self = .EXPIRY
        case .reversal: self = .REVERSAL
        case .adjustment: self = .ADJUSTMENT
        }
    }

    var transferKind: TransferKind {
        switch self {
        case .ALLOCATION: .allocation
        case .TOP_UP: .topUp
        case .DEDUCTION: .deduction
        case .EXPIRY: .expiry
        case .REVERSAL: .reversal
        case .ADJUSTMENT: .adjustment
        }
    }
}
