/// What a transfer does. Stored as text; the schema's CHECK constraint lists the same values.
public enum TransferKind: String, Sendable, CaseIterable, Codable {
    case allocation
    case topUp = "top_up"
    case deduction
    case expiry
    case reversal
    case adjustment

    /// Inflows create a grant on the organisation's account; outflows draw from grants.
    public var isInflow: Bool {
        switch self {
        case .allocation, .topUp: true
        case .deduction, .expiry, .reversal: false
        case .adjustment: false  // either way: see `Transfer.credits(organisationID:)` and `postAdmin`
        }
    }
}

/// Ledger accounts. Organisation accounts hold credits; system accounts are where credits come
/// from and go to, so every transfer has two sides and all balances sum to zero.
public enum AccountID: Sendable, Hashable, CustomStringConvertible {
    case available(organisationID: String)
    case issuance
    case consumption
    case expiry
    case adjustment

    public var rawValue: String {
        switch self {
        case .available(let organisation): "org:\(organisation)"
        case .issuance: "system:issuance"
        case .consumption: "system:consumption"
        case .expiry: "system:expiry"
        case .adjustment: "system:adjustment"
        }
    }

    public var description: String { rawValue }

    static let systemAccounts: [AccountID] = [.issuance, .consumption, .expiry, .adjustment]
}

/// The references that explain a transfer. All optional; each kind uses the ones that apply.
public struct TransferReferences: Sendable, Hashable, Codable {
    public var costEventID: String?
    public var revolutOrderID: String?
    public var planPeriod: String?
    public var team: String?
    public var investigation: String?
    public var operation: String?
    public var memo: String?

    public init(
        costEventID: String? = nil, revolutOrderID: String? = nil, planPeriod: String? = nil,
        team: String? = nil, investigation: String? = nil, operation: String? = nil, memo: String? = nil
    ) {
        self.costEventID = costEventID
        self.revolutOrderID = revolutOrderID
        self.planPeriod = planPeriod
        self.team = team
        self.investigation = investigation
        self.operation = operation
        self.memo = memo
    }
}

/// A posted transfer as read back from the ledger.
public struct Transfer: Sendable, Hashable, Codable {
    public let id: Int64
    public let idempotencyKey: String
    public let kind: TransferKind
    public let organisationID: String
    public let debitAccount: String
    public let creditAccount: String
    public let amount: Credits
    /// Price paid (inflows) or cost of the credits drawn (outflows), in the organisation's currency.
    public let money: Money
    public let effectiveAt: Instant
    public let recordedAt: Instant
    public let references: TransferReferences
    /// Who made it (`Actor`); `unknownBeforeAudit` for transfers posted before actors were recorded.
    public let actor: Actor
    /// The organisation's available balance right after this transfer, in posting order (the order of
    /// `id`, as history lists them); `balanceBefore` is the balance right before it.
    public let balanceAfter: Credits
    /// The grant an inflow created (nil for outflows).
    public let grantID: Int64?
}

extension Transfer {
    /// Whether this transfer puts credits into `organisationID`'s account (its credit side), rather
    /// than taking them out. The one sign rule for an organisation's history: the CLI, GraphQL,
    /// invoices and `postAdmin`'s retry check all ask it.
    public func credits(organisationID: String) -> Bool {
        creditAccount == AccountID.available(organisationID: organisationID).rawValue
    }

    /// The transfer's effect on `organisationID`'s balance: the amount, negated when it takes
    /// credits out of the organisation's account.
    public func signedAmount(for organisationID: String) -> Credits {
        credits(organisationID: organisationID) ? amount : amount.negated
    }

    /// The organisation's available balance right before this transfer, in posting order.
    public var balanceBefore: Credits {
        Credits(microcredits: balanceAfter.microcredits - signedAmount(for: organisationID).microcredits)
    }

    /// The transfer's money, signed the same way as `signedAmount(for:)`.
    public func signedMoney(for organisationID: String) -> Money {
        credits(organisationID: organisationID) ? money : Money(minorUnits: -money.minorUnits, currency: money.currency)
    }

    /// This inflow with the grant it created.
    func creating(grant grantID: Int64) -> Transfer {
        Transfer(
            id: id, idempotencyKey: idempotencyKey, kind: kind, organisationID: organisationID,
            debitAccount: debitAccount, creditAccount: creditAccount, amount: amount, money: money,
            effectiveAt: effectiveAt, recordedAt: recordedAt, references: references, actor: actor,
            balanceAfter: balanceAfter, grantID: grantID)
    }
}

/// Which money a read gives an outflow (an inflow's money is always the price paid for its grant).
///
/// Why two: a deduction (or negative adjustment) that ran into overdraft is posted with the cost of
/// the credits grants covered then; the uncovered credits have no cost until a later grant settles
/// them, which appends a negative uncovered draw and a positive draw from that grant, with its
/// cost, to the same outflow (docs/LEDGER.md, burn-down). Transfers are append-only, so the posted
/// money never changes; the draws carry the full cost.
public enum TransferMoney: Sendable, Hashable {
    /// The money stored when the transfer was posted: the ledger's record (`ledger history`).
    case asPosted
    /// An outflow's money as the cost of all its draws, settlements included: what consumption cost,
    /// as reports, invoice appendices and the usage API show it.
    case includingSettlements
}
