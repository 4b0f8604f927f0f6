/// What one posting did, in whichever book it went: the credits it moved (nil when it posted
/// nothing), the transfer when the book is the ledger, and what a person should hear about it.
public struct PostingOutcome: Sendable, Hashable {
    public var posted: Credits?
    /// The transfer written (or found, for a key already posted); nil in a simulation.
    public var transfer: Transfer?
    public var intoReserve: Credits = .zero
    public var overdraft: Credits = .zero
    /// Reversals: credits that were already spent and could not be taken back.
    public var alreadySpent: Credits = .zero
    /// Spends: soft budgets passed (charged and flagged), tightest first.
    public var budgetWarnings: [SpendRefusal] = []

    public init(posted: Credits? = nil, transfer: Transfer? = nil, intoReserve: Credits = .zero,
                overdraft: Credits = .zero, alreadySpent: Credits = .zero) {
        self.posted = posted ?? transfer?.amount
        self.transfer = transfer
        self.intoReserve = intoReserve
        self.overdraft = overdraft
        self.alreadySpent = alreadySpent
    }
}

/// Where postings go: the ledger itself (`LedgerTransaction`) or a simulation of it
/// (`PostingSimulation`). Both make the same decisions (`PostingRules.swift`) on the same
/// organisation state, so what a simulation posts is what the ledger would post.
public protocol PostingBook {
    func postGrant(_ request: GrantRequest) throws -> PostingOutcome
    /// Credits a completed order exactly once (an order already credited is `exists`).
    func postCompletedOrder(_ order: CompletedOrder) throws -> PostingOutcome
    func postSpend(_ request: SpendRequest) throws -> PostingOutcome
    /// Takes back up to `credits` of the grant the transfer `grantKey` created; nothing when no
    /// such grant exists (then every credit counts as already spent).
    func postReversal(
        ofGrantCreatedBy grantKey: String, credits: Credits, at effectiveAt: Instant, idempotencyKey: String,
        references: TransferReferences
    ) throws -> PostingOutcome
    /// Expires what is left of the grant the transfer `grantKey` created.
    func postExpiry(ofGrantCreatedBy grantKey: String, at effectiveAt: Instant, idempotencyKey: String) throws
        -> PostingOutcome
}

extension LedgerTransaction: PostingBook {
    public func postGrant(_ request: GrantRequest) throws -> PostingOutcome {
        PostingOutcome(transfer: try grant(request).transfer)
    }

    public func postCompletedOrder(_ order: CompletedOrder) throws -> PostingOutcome {
        PostingOutcome(transfer: try creditCompletedOrder(order).transfer)
    }

    public func postSpend(_ request: SpendRequest) throws -> PostingOutcome {
        let posting = try spend(request)
        var outcome = PostingOutcome(transfer: posting.transfer, intoReserve: posting.intoReserve, overdraft: posting.overdraft)
        outcome.budgetWarnings = posting.budgetWarnings
        return outcome
    }

    public func postReversal(
        ofGrantCreatedBy grantKey: String, credits: Credits, at effectiveAt: Instant, idempotencyKey: String,
        references: TransferReferences
    ) throws -> PostingOutcome {
        guard let grant = try reader.grant(createdByKey: grantKey) else { return PostingOutcome(alreadySpent: credits) }
        let result = try reverse(
            grantID: grant.id, credits: credits, at: effectiveAt, idempotencyKey: idempotencyKey, references: references)
        return PostingOutcome(transfer: result.posting?.transfer, alreadySpent: result.alreadySpent)
    }

    public func postExpiry(ofGrantCreatedBy grantKey: String, at effectiveAt: Instant, idempotencyKey: String) throws
        -> PostingOutcome
    {
        guard let grant = try reader.grant(createdByKey: grantKey) else { return PostingOutcome() }
        return PostingOutcome(transfer: try expire(grantID: grant.id, at: effectiveAt, idempotencyKey: idempotencyKey)?.transfer)
    }
}
