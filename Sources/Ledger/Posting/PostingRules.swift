/// The decisions posting makes, each written once. The ledger (`LedgerTransaction`) writes what
/// they decide; the simulation (`PostingSimulation`, with which reconcile plans) keeps only the
/// balances they leave. Both call these, so a simulated plan is exactly the plan apply posts.

extension SpendRequest {
    /// The checks a spend passes before anything is read.
    func check() throws {
        guard !idempotencyKey.isEmpty else { throw PostingRejection.idempotencyKeyMustNotBeEmpty }
        guard credits.isPositive else { throw PostingRejection.amountMustBePositive }
        try LedgerTransaction.checkTransferLimit(credits)
    }

    /// What the idempotency key stands for: the same key must come back with the same content.
    var contentHash: String {
        ContentHash.of([
            "spend", purpose.rawValue, organisationID, "\(credits.microcredits)", "\(effectiveAt.millisecondsSinceEpoch)",
        ] + ContentHash.fields(references))
    }
}

/// How one spend meets an organisation's balance: how much of it goes into reserved capacity (or
/// the refusal its policy gives), and its draws from the grants in burn-down order.
struct SpendDecision {
    let intoReserve: Credits
    let draws: [BurnDown.Draw]
    let cost: Money
    /// Credits no grant covers (overdraft).
    let uncovered: Credits

    static func decide(_ request: SpendRequest, from state: OrganisationPostingState) throws -> SpendDecision {
        let intoReserve = try intoReserve(request, balance: state.balance(spendableAt: request.effectiveAt))
        let plan = try BurnDown.plan(request.credits, from: state, at: request.effectiveAt)
        return SpendDecision(intoReserve: intoReserve, draws: plan.draws, cost: plan.cost, uncovered: plan.uncovered)
    }

    /// How much of `request` goes into reserved capacity; throws when its policy refuses it.
    private static func intoReserve(_ request: SpendRequest, balance: Balance) throws -> Credits {
        let spendable = balance.spendable(for: request.priority)
        switch request.policy {
        case .withinSpendable:
            if let refusal = balance.refusal(spending: request.credits, priority: request.priority) {
                throw PostingRejection.exceedsSpendable(
                    requested: refusal.requested, spendable: refusal.spendable, blockedBy: refusal.rule)
            }
            return .zero
        case .allowOverdraft(let limit):
            let after = try balance.available.subtracting(request.credits)
            guard after >= limit.negated else {
                throw PostingRejection.exceedsOverdraftLimit(
                    requested: request.credits, available: balance.available, limit: limit)
            }
            let beyondSpendable = try request.credits.subtracting(max(spendable, .zero))
            let beyondAvailable = try request.credits.subtracting(max(balance.available, .zero))
            return try max(.zero, beyondSpendable).subtracting(max(.zero, beyondAvailable))
        }
    }
}

/// The terms a grant is posted on, checked against the organisation's currency.
struct GrantTerms {
    let price: Money
    let burnRank: Int
    let contentHash: String

    static func of(_ request: GrantRequest, currency: Currency) throws -> GrantTerms {
        guard !request.idempotencyKey.isEmpty else { throw PostingRejection.idempotencyKeyMustNotBeEmpty }
        guard request.credits.isPositive else { throw PostingRejection.amountMustBePositive }
        try LedgerTransaction.checkTransferLimit(request.credits)
        let price = request.price ?? .zero(currency)
        guard price.currency == currency else {
            throw PostingRejection.currencyMustMatchOrganisation(expected: currency, got: price.currency)
        }
        guard price.minorUnits >= 0 else { throw PostingRejection.amountMustBePositive }
        if let expiresAt = request.expiresAt, expiresAt <= request.effectiveAt {
            throw PostingRejection.expiryMustNotPrecedeGrant
        }
        let burnRank = request.burnRank ?? Grant.defaultBurnRank(for: request.source)
        let hash = ContentHash.of([
            "grant", request.kind.rawValue, request.organisationID, "\(request.credits.microcredits)",
            "\(price.minorUnits)", price.currency.code, "\(request.effectiveAt.millisecondsSinceEpoch)",
            request.expiresAt.map { "\($0.millisecondsSinceEpoch)" } ?? "-", "\(burnRank)",
        ] + ContentHash.fields(request.references))
        return GrantTerms(price: price, burnRank: burnRank, contentHash: hash)
    }
}

/// Overdraft an organisation still owes: per outflow that ran beyond every grant, the credits no
/// grant covers yet, oldest outflow first.
public struct OwedCredits: Sendable, Hashable {
    public let transferID: Int64
    public let credits: Credits
}

/// How a new grant settles overdraft: it covers what is owed, oldest outflow first, as far as it
/// goes, so the cost of those credits becomes exact once credits exist to cover them.
enum OverdraftSettlement {
    struct Settlement {
        let transferID: Int64
        let credits: Credits
        let cost: Money
    }

    /// The settlements `grant` makes of `owed`, and the grant as it is after them.
    static func settle(_ owed: [OwedCredits], from grant: Grant) throws -> (settlements: [Settlement], grant: Grant) {
        var grant = grant
        var settlements: [Settlement] = []
        for debt in owed where grant.remaining.isPositive {
            let settled = min(debt.credits, grant.remaining)
            settlements.append(Settlement(transferID: debt.transferID, credits: settled,
                                          cost: try GrantCost.draw(settled, from: grant)))
            grant = try grant.drawn(settled)
        }
        return (settlements, grant)
    }
}

extension LedgerTransaction {
    /// The idempotency rule: the same key with the same content is the earlier posting; the same
    /// key with different content is refused.
    static func checkSameContent(key: String, existingID: Int64, existingHash: String, hash: String) throws {
        guard existingHash == hash else {
            throw PostingRejection.idempotencyKeyReusedWithDifferentContent(key: key, existingTransferID: existingID)
        }
    }
}

/// What the idempotency keys of an expiry and of a reversal stand for.
enum GrantOutflowHash {
    static func expiry(grantID: Int64, at effectiveAt: Instant) -> String {
        ContentHash.of(["expiry", "\(grantID)", "\(effectiveAt.millisecondsSinceEpoch)"])
    }

    static func reversal(grantID: Int64, credits: Credits, at effectiveAt: Instant, references: TransferReferences) -> String {
        ContentHash.of(["reversal", "\(grantID)", "\(credits.microcredits)", "\(effectiveAt.millisecondsSinceEpoch)"]
            + ContentHash.fields(references))
    }
}
