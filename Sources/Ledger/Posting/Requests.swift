/// A request to put credits into an organisation's balance as a new grant
/// (allocation, top-up, or positive adjustment).
public struct GrantRequest: Sendable, Hashable {
    public var idempotencyKey: String
    public var organisationID: String
    public var source: GrantSource
    public var credits: Credits
    /// What was paid for these credits (their cost basis); nil means free (cost zero).
    public var price: Money?
    public var effectiveAt: Instant
    public var expiresAt: Instant?
    /// The grant's burn rank (lower burns first); nil takes `Grant.defaultBurnRank(for: source)`.
    public var burnRank: Int?
    public var references: TransferReferences

    public init(
        idempotencyKey: String, organisationID: String, source: GrantSource, credits: Credits,
        price: Money? = nil, effectiveAt: Instant, expiresAt: Instant? = nil, burnRank: Int? = nil,
        references: TransferReferences = TransferReferences()
    ) {
        self.idempotencyKey = idempotencyKey
        self.organisationID = organisationID
        self.source = source
        self.credits = credits
        self.price = price
        self.effectiveAt = effectiveAt
        self.expiresAt = expiresAt
        self.burnRank = burnRank
        self.references = references
    }

    var kind: TransferKind {
        switch source {
        case .allocation: .allocation
        case .topUp: .topUp
        case .adjustment: .adjustment
        }
    }
}

/// How far a spend may go.
public enum SpendPolicy: Sendable, Hashable {
    /// Only within the spendable balance for the work's priority (the live credit gate).
    case withinSpendable
    /// Usage that already happened (batch): charge it even into reservations, and below zero
    /// down to `-limit`; beyond that the spend is refused.
    case allowOverdraft(limit: Credits)
}

/// A request to take credits out of an organisation's balance, burning grants down in order
/// (a deduction for usage, or a negative adjustment).
public struct SpendRequest: Sendable, Hashable {
    public enum Purpose: String, Sendable, Hashable {
        case deduction
        case adjustment
    }

    public var idempotencyKey: String
    public var organisationID: String
    public var purpose: Purpose
    public var credits: Credits
    public var effectiveAt: Instant
    /// The priority of the work; decides which reservations it may spend into.
    public var priority: Priority
    public var policy: SpendPolicy
    public var references: TransferReferences

    public init(
        idempotencyKey: String, organisationID: String, purpose: Purpose = .deduction, credits: Credits,
        effectiveAt: Instant, priority: Priority, policy: SpendPolicy,
        references: TransferReferences = TransferReferences()
    ) {
        self.idempotencyKey = idempotencyKey
        self.organisationID = organisationID
        self.purpose = purpose
        self.credits = credits
        self.effectiveAt = effectiveAt
        self.priority = priority
        self.policy = policy
        self.references = references
    }
}

/// The result of a posting call that was accepted.
public struct Posting: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// Posted now.
        case posted
        /// Already posted earlier with the same idempotency key and content; nothing changed.
        case exists
    }

    public let status: Status
    public let transfer: Transfer
    /// For spends: credits taken beyond the spendable balance for the work's priority
    /// (from reserved capacity), and credits not covered by any grant (overdraft).
    public let intoReserve: Credits
    public let overdraft: Credits
    /// Soft budgets this spend passed (charged anyway), tightest first.
    public var budgetWarnings: [SpendRefusal] = []
}

/// Why the ledger refused a posting. Each case names the rule that was broken.
public enum PostingRejection: ClassifiedError, Equatable {
    case amountMustBePositive
    /// More than `Credits.transferMax`: no single transfer moves that much (a producer's error).
    case amountAboveTransferLimit(requested: Credits, limit: Credits)
    case idempotencyKeyMustNotBeEmpty
    case organisationNotFound(String)
    case currencyMustMatchOrganisation(expected: Currency, got: Currency)
    case idempotencyKeyReusedWithDifferentContent(key: String, existingTransferID: Int64)
    /// The live gate's rule: not enough spendable balance for this work's priority.
    case exceedsSpendable(requested: Credits, spendable: Credits, blockedBy: SpendBlock)
    /// A hard budget on the spend's path would be passed (`BudgetBook.check`): the refusal names
    /// the budget's scope, limit, use and reset.
    case budgetExceeded(SpendRefusal)
    /// Even the overdraft allowance would be exceeded.
    case exceedsOverdraftLimit(requested: Credits, available: Credits, limit: Credits)
    case grantNotFound(Int64)
    case expiryMustNotPrecedeGrant
    case overflow
    /// The transaction names no actor that may post (`Actor.mayPost`): a bug in the caller, refused so
    /// no transfer is ever recorded without who made it.
    case actorRequired

    public var failureClass: FailureClass { .badData }

    /// Every code a posting refusal can carry, in docs/CODES.md's catalogue.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case amountMustBePositive, amountAboveTransferLimit, idempotencyKeyMustNotBeEmpty, organisationNotFound
        case currencyMustMatchOrganisation, idempotencyKeyReusedWithDifferentContent, exceedsSpendable
        case exceedsOverdraftLimit, grantNotFound, expiryMustNotPrecedeGrant, overflow, actorRequired
        case budgetExceeded
    }

    /// The refusal's code: the rule the posting broke.
    public var code: String { kind.rawValue }

    public var kind: Code {
        switch self {
        case .amountMustBePositive: .amountMustBePositive
        case .amountAboveTransferLimit: .amountAboveTransferLimit
        case .idempotencyKeyMustNotBeEmpty: .idempotencyKeyMustNotBeEmpty
        case .organisationNotFound: .organisationNotFound
        case .currencyMustMatchOrganisation: .currencyMustMatchOrganisation
        case .idempotencyKeyReusedWithDifferentContent: .idempotencyKeyReusedWithDifferentContent
        case .exceedsSpendable: .exceedsSpendable
        case .budgetExceeded: .budgetExceeded
        case .exceedsOverdraftLimit: .exceedsOverdraftLimit
        case .grantNotFound: .grantNotFound
        case .expiryMustNotPrecedeGrant: .expiryMustNotPrecedeGrant
        case .overflow: .overflow
        case .actorRequired: .actorRequired
        }
    }

    public var description: String {
        switch self {
        case .amountMustBePositive: "the amount must be positive"
        case .amountAboveTransferLimit(let requested, let limit):
            "\(requested) credits is more than one transfer may move (\(limit), Credits.transferMax) [amountAboveTransferLimit]"
        case .idempotencyKeyMustNotBeEmpty: "an idempotency key is required"
        case .organisationNotFound(let id): "no organisation \(id); load it with `credits init`"
        case .currencyMustMatchOrganisation(let expected, let got):
            "the price is in \(got) but the organisation is billed in \(expected)"
        case .idempotencyKeyReusedWithDifferentContent(let key, let existing):
            "idempotency key \(key) was already used for transfer \(existing) with different content"
        case .exceedsSpendable(let requested, let spendable, let block):
            "\(requested) credits requested but only \(spendable) spendable (\(block.rawValue))"
        case .budgetExceeded(let refusal):
            "\(refusal.requested) credits requested but the \(refusal.scope.kind.rawValue) \(refusal.scope.id) budget "
                + "allows only \(refusal.spendable) more (limit \(refusal.budget?.limit ?? .zero), used "
                + "\(refusal.budget?.used ?? .zero)) (budget_exceeded)"
        case .exceedsOverdraftLimit(let requested, let available, let limit):
            "\(requested) credits requested with \(available) available would exceed the overdraft limit of \(limit)"
        case .grantNotFound(let id): "no grant \(id)"
        case .expiryMustNotPrecedeGrant: "the expiry must be after the grant takes effect"
        case .overflow: "the amount would overflow"
        case .actorRequired: "a transfer must name who made it (an API key, an operator or a pipeline stage)"
        }
    }
}
