import Foundation
import Ledger

public struct ReservationView: Codable, Sendable {
    public let id: Identifier
    public let credits: CreditAmount
    /// Investigations of priority rank 1 (P1) up to this rank may spend the reserved credits.
    public let maxPriority: Int
}
