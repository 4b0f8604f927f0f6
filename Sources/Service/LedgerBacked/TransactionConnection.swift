import Graphiti
import Ledger

public struct TransactionEdge: Codable, Sendable {
    public let cursor: String
    public let node: TransactionView
}

public struct TransactionConnection: Codable, Sendable {
    public let edges: [TransactionEdge]
    public let pageInfo: PageInfo
}
