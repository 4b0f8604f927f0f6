import Graphiti
import Ledger

/// One ledger transfer seen from the organisation: `credits` is positive for inflows, negative for outflows.
public struct TransactionView: Codable, Sendable {
    public let id: Identifier
    public let kind: TransactionKind
    public let credits: CreditAmount
    public let money: MoneyView
    public let effectiveAt: DateTime
    public let costEventId: Identifier?
    public let revolutOrderId: Identifier?
    public let team: String?
    public let investigation: String?
    public let operation: String?
    public let memo: String?
    public let actor: String
    public let balanceBefore: CreditAmount
    public let balanceAfter: CreditAmount
}
