/// Where a grant's credits came from.
public enum GrantSource: String, Sendable, CaseIterable, Codable {
    case allocation
    case topUp = "top_up"
    case adjustment
}

/// A block of credits in an organisation's balance, burnt down by deductions in a stated order:
/// `burnRank` ascending (lower burns first), then soonest `expiresAt` (no expiry last), then
/// oldest `grantedAt`, then `id`. (An investigation's `Priority`, P1..P4, is another idea: which
/// reservations its work may spend into. The ledger's `grants.priority` column holds the burn rank.)
public struct Grant: Sendable, Hashable, Codable {
    public let id: Int64
    public let organisationID: String
    public let source: GrantSource
    public let transferID: Int64
    public let credits: Credits
    public let remaining: Credits
    /// Where the grant stands in the burn-down order: lower burns first.
    public let burnRank: Int
    public let expiresAt: Instant?
    public let grantedAt: Instant
    /// What was paid for the whole grant: the cost basis of its credits.
    public let cost: Money

    /// Whether this grant burns before `other`: the order stated above, which
    /// `LedgerReader.grantsWithCreditsLeft` gives in SQL (the two must agree).
    public func burnsBefore(_ other: Grant) -> Bool {
        if burnRank != other.burnRank { return burnRank < other.burnRank }
        switch (expiresAt, other.expiresAt) {
        case (let mine?, let theirs?) where mine != theirs: return mine < theirs
        case (.some, .none): return true
        case (.none, .some): return false
        default: break
        }
        if grantedAt != other.grantedAt { return grantedAt < other.grantedAt }
        return id < other.id
    }

    /// Default burn rank by source: adjustments and allocations (use-it-or-lose-it) burn before
    /// purchased top-ups.
    public static func defaultBurnRank(for source: GrantSource) -> Int {
        switch source {
        case .adjustment: 10
        case .allocation: 20
        case .topUp: 30
        }
    }
}

/// One leg of an outflow: how many credits it took from which grant, and what they cost.
/// `grantID` is nil for credits drawn beyond every grant (overdraft), which carry no cost basis.
public struct GrantDraw: Sendable, Hashable, Codable {
    public let transferID: Int64
    public let grantID: Int64?
    public let credits: Credits
    public let cost: Money
}
