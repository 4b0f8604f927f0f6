/// A posting an administrator makes by hand: `credits ledger allocate|top-up|adjust` and the GraphQL
/// mutations `allocateCredits`, `topUpCredits` and `adjustCredits` build this one request and post it
/// through `LedgerTransaction.postAdmin`, so both paths validate and retry alike.
public struct AdminPostingRequest: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case allocation, topUp, adjustment

        var transferKind: TransferKind {
            switch self {
            case .allocation: .allocation
            case .topUp: .topUp
            case .adjustment: .adjustment
            }
        }
    }

    /// The price paid, as the caller wrote it; read in the organisation's currency inside the transaction.
    public enum Price: Sendable, Hashable {
        /// Major units as text (`450.00`), as the CLI takes it.
        case major(String)
        /// Integer minor units, as GraphQL takes it.
        case minorUnits(Int64)
    }

    public var kind: Kind
    public var idempotencyKey: String
    public var organisationID: String
    /// Positive, except that an adjustment may be negative (it takes credits away).
    public var credits: Credits
    public var price: Price?
    public var effectiveAt: Instant
    public var expiresAt: Instant?
    public var revolutOrderID: String?
    /// Why the administrator posts it: required, kept with the transfer (`--reason`/`--memo`, GraphQL `memo`),
    /// so the audit trail says on what authority every hand posting was made.
    public var memo: String?

    /// Idempotency keys an administrator chooses are 1 to this many bytes.
    public static let idempotencyKeyBytesMax = 200

    public init(
        kind: Kind, idempotencyKey: String, organisationID: String, credits: Credits, price: Price? = nil,
        effectiveAt: Instant, expiresAt: Instant? = nil, revolutOrderID: String? = nil, memo: String? = nil
    ) {
        self.kind = kind
        self.idempotencyKey = idempotencyKey
        self.organisationID = organisationID
        self.credits = credits
        self.price = price
        self.effectiveAt = effectiveAt
        self.expiresAt = expiresAt
        self.revolutOrderID = revolutOrderID
        self.memo = memo
    }
}

/// Why an administrator's posting was refused before it reached the ledger's posting rules.
public enum AdminPostingRejection: ClassifiedError, Equatable {
    case idempotencyKeyLength(max: Int)
    case creditsMustNotBeZero
    case creditsMustBePositive
    case reasonRequired
    case priceMalformed(String)

    public var failureClass: FailureClass { .badData }

    /// Every code an administrator's posting refusal can carry, in docs/CODES.md's catalogue.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case idempotencyKeyLength, creditsMustNotBeZero, creditsMustBePositive, reasonRequired, priceMalformed
    }

    /// The refusal's code: the rule the request broke.
    public var code: String { kind.rawValue }

    public var kind: Code {
        switch self {
        case .idempotencyKeyLength: .idempotencyKeyLength
        case .creditsMustNotBeZero: .creditsMustNotBeZero
        case .creditsMustBePositive: .creditsMustBePositive
        case .reasonRequired: .reasonRequired
        case .priceMalformed: .priceMalformed
        }
    }

    public var description: String {
        switch self {
        case .idempotencyKeyLength(let max): "the idempotency key must be 1 to \(max) bytes"
        case .creditsMustNotBeZero: "credits must not be zero"
        case .creditsMustBePositive: "credits must be positive (only an adjustment may be negative)"
        case .reasonRequired: "an administrator's posting needs a reason (memo) saying why it is made"
        case .priceMalformed(let detail): "price \(detail)"
        }
    }
}

extension LedgerTransaction {
    /// Posts an administrator's allocation, top-up or adjustment.
    ///
    /// The idempotency rule for hand postings: the same key for the same organisation, kind and
    /// amount returns the earlier transfer (`exists`) even though "now" has moved on, so a retry of
    /// the CLI without `--at`, or of a GraphQL mutation, is safe; the same key with anything else is
    /// `idempotencyKeyReusedWithDifferentContent`. A positive amount creates a grant; a negative
    /// adjustment draws grants down in burn-down order, allowed down to the overdraft limit.
    public func postAdmin(_ request: AdminPostingRequest) throws -> Posting {
        guard (1...AdminPostingRequest.idempotencyKeyBytesMax).contains(request.idempotencyKey.utf8.count) else {
            throw AdminPostingRejection.idempotencyKeyLength(max: AdminPostingRequest.idempotencyKeyBytesMax)
        }
        guard request.credits != .zero else { throw AdminPostingRejection.creditsMustNotBeZero }
        guard request.credits.isPositive || request.kind == .adjustment else {
            throw AdminPostingRejection.creditsMustBePositive
        }
        if request.memo?.contains(where: { !$0.isWhitespace }) != true {
            throw AdminPostingRejection.reasonRequired
        }
        let organisation = try organisationFacts(request.organisationID)
        let amount = request.credits.isNegative ? request.credits.negated : request.credits
        if let existing = try reader.transfer(idempotencyKey: request.idempotencyKey) {
            guard existing.organisationID == request.organisationID, existing.kind == request.kind.transferKind,
                existing.signedAmount(for: request.organisationID) == request.credits
            else {
                throw PostingRejection.idempotencyKeyReusedWithDifferentContent(
                    key: request.idempotencyKey, existingTransferID: existing.id)
            }
            return Posting(status: .exists, transfer: existing, intoReserve: .zero, overdraft: .zero)
        }
        let references = TransferReferences(revolutOrderID: request.revolutOrderID, memo: request.memo)
        if request.credits.isNegative {
            return try spend(SpendRequest(
                idempotencyKey: request.idempotencyKey, organisationID: request.organisationID, purpose: .adjustment,
                credits: amount, effectiveAt: request.effectiveAt, priority: .p1,
                policy: .allowOverdraft(limit: organisation.overdraftLimit), references: references))
        }
        return try grant(GrantRequest(
            idempotencyKey: request.idempotencyKey, organisationID: request.organisationID,
            source: request.kind.grantSource, credits: amount,
            price: try request.price.map { try Self.money($0, currency: organisation.currency) },
            effectiveAt: request.effectiveAt, expiresAt: request.expiresAt, references: references))
    }

    private static func money(_ price: AdminPostingRequest.Price, currency: Currency) throws -> Money {
        switch price {
        case .minorUnits(let minor):
            guard minor >= 0 else { throw AdminPostingRejection.priceMalformed("must not be negative") }
            return Money(minorUnits: minor, currency: currency)
        case .major(let text):
            switch Money.parse(major: text, currency: currency) {
            case .success(let money): return money
            case .failure(let error): throw AdminPostingRejection.priceMalformed("\(text): \(error)")
            }
        }
    }
}

extension AdminPostingRequest.Kind {
    var grantSource: GrantSource {
        switch self {
        case .allocation: .allocation
        case .topUp: .topUp
        case .adjustment: .adjustment
        }
    }
}
