/// Posting without writing: the ledger's own rules (`PostingRules.swift`, `BurnDown`,
/// `OrganisationPostingState`) applied to organisations' states read once from the ledger and
/// then kept in memory. Reconcile plans with it; apply posts the same items in the ledger and
/// checks it arrives at the same plan digest.
///
/// Why: planning used to post every item in a transaction that was rolled back, paying for every
/// insert, index and draw of the night twice (once to plan, once to apply). The simulation pays
/// for reading the state. What it must reproduce of the ledger is only what a plan shows: which
/// items post, the credits each moves, and what went into reserves, overdraft or was already
/// spent; never money (a plan has none) or transfer rows. New transfers and grants get the ids
/// the ledger would give them (one more than the largest, in posting order), since the burn-down
/// order and overdraft settlement depend on them.
public final class PostingSimulation: PostingBook {
    private let reader: LedgerReader
    private var organisations: [String: SimulatedOrganisation] = [:]
    /// Keys of the grants, expiries and reversals posted in this simulation, which the ledger
    /// would answer as `exists` if they came again. Spends are not remembered, so memory does not
    /// grow with the night's usage: a plan's deductions are keyed by distinct staged events. Were a
    /// spend's key to come twice, the simulation would post it twice where the ledger answers the
    /// second with the first, and apply's digest check would refuse that plan as stale: never a
    /// different posting. A key posted before the simulation began is found in the ledger.
    private var posted: [String: SimulatedTransfer] = [:]
    /// Grants created in this simulation, by the key of the transfer that created them.
    private var grantsByKey: [String: (organisationID: String, id: Int64)] = [:]
    private var creditedOrders: [String: Credits] = [:]
    private var nextTransferID: Int64
    /// The budget rule (`BudgetBook`), and the usage this simulation charged, by scope and day.
    private let budgets = BudgetBook()
    private var charged = ScopeSpendDays()
    private var nextGrantID: Int64

    /// `reader` must see the ledger as it is (in the transaction the plan is made in).
    public init(reader: LedgerReader) throws {
        self.reader = reader
        (nextTransferID, nextGrantID) = try reader.nextRowIDs()
    }

    public func postGrant(_ request: GrantRequest) throws -> PostingOutcome {
        try postGrant(request, remembered: true)
    }

    /// `remembered`: whether the key is kept for a repeat (`posted`); a top-up's repeat is answered
    /// by `creditedOrders`, so the night's many top-ups keep no closure and no copy of their key there.
    private func postGrant(_ request: GrantRequest, remembered: Bool) throws -> PostingOutcome {
        let terms = try GrantTerms.of(request, currency: try organisation(request.organisationID) { $0.state.currency })
        if let existing = try existing(request.idempotencyKey, hash: { terms.contentHash }) { return existing }
        let grant = Grant(
            id: nextGrantID, organisationID: request.organisationID, source: request.source, transferID: nextTransferID,
            credits: request.credits, remaining: request.credits, burnRank: terms.burnRank, expiresAt: request.expiresAt,
            grantedAt: request.effectiveAt, cost: terms.price)
        try organisation(request.organisationID) { organisation in
            let (settlements, after) = try OverdraftSettlement.settle(organisation.owed, from: grant)
            try organisation.settled(settlements)
            _ = try organisation.state.granted(after)
        }
        grantsByKey[request.idempotencyKey] = (request.organisationID, grant.id)
        nextGrantID += 1
        guard remembered else {
            nextTransferID += 1
            return PostingOutcome(posted: request.credits)
        }
        return record(request.idempotencyKey, hash: { terms.contentHash }, request.credits,
                      organisationID: request.organisationID)
    }

    public func postCompletedOrder(_ order: CompletedOrder) throws -> PostingOutcome {
        if let credits = creditedOrders[order.orderID] { return PostingOutcome(posted: credits) }
        if let topUp = try reader.topUp(forRevolutOrder: order.orderID) { return PostingOutcome(posted: topUp.amount) }
        let outcome = try postGrant(order.grantRequest, remembered: false)
        creditedOrders[order.orderID] = outcome.posted
        return outcome
    }

    public func postSpend(_ request: SpendRequest) throws -> PostingOutcome {
        try request.check()
        try organisation(request.organisationID) { _ in }
        if let existing = try existing(request.idempotencyKey, hash: { request.contentHash }) { return existing }
        let budgeted = BudgetedSpend(request)
        let budget = try budgeted.map { try budgets.check($0, held: .none, pending: charged, in: reader.sqlReadingNoBalances) }
        let transferID = nextTransferID
        let decision = try organisation(request.organisationID) { organisation in
            let decision = try SpendDecision.decide(request, from: organisation.state)
            try organisation.state.spent(request.credits, draws: decision.draws)
            if decision.uncovered.isPositive {
                organisation.owed.append(OwedCredits(transferID: transferID, credits: decision.uncovered))
            }
            return decision
        }
        // Not remembered (see `posted`): one transfer id taken, nothing kept per event.
        nextTransferID += 1
        // Only what a budget measures is kept (`ScopeUse`), as posting keeps it.
        if let budgeted, let budget {
            let scopes = try budgets.measuredScopes(of: budgeted, in: reader.sqlReadingNoBalances)
            if !scopes.isEmpty {
                try charged.add(budgeted.credits, to: scopes, of: budgeted.organisationID, day: budget.day)
                try budgets.recorded(budgeted, day: budget.day)
            }
        }
        var outcome = PostingOutcome(posted: request.credits, intoReserve: decision.intoReserve, overdraft: decision.uncovered)
        outcome.budgetWarnings = budget?.softExceeded ?? []
        return outcome
    }

    public func postReversal(
        ofGrantCreatedBy grantKey: String, credits: Credits, at effectiveAt: Instant, idempotencyKey: String,
        references: TransferReferences
    ) throws -> PostingOutcome {
        guard let (organisationID, grantID) = try grant(createdBy: grantKey) else { return PostingOutcome(alreadySpent: credits) }
        guard credits.isPositive else { throw PostingRejection.amountMustBePositive }
        let hash = GrantOutflowHash.reversal(grantID: grantID, credits: credits, at: effectiveAt, references: references)
        if var existing = try existing(idempotencyKey, hash: { hash }) {
            existing.alreadySpent = try credits.subtracting(existing.posted ?? .zero)
            return existing
        }
        let amount = min(credits, try remaining(of: grantID, in: organisationID))
        let alreadySpent = try credits.subtracting(amount)
        guard amount.isPositive else { return PostingOutcome(alreadySpent: alreadySpent) }
        try draw(amount, fromGrant: grantID, of: organisationID)
        var outcome = record(idempotencyKey, hash: { hash }, amount, organisationID: organisationID)
        outcome.alreadySpent = alreadySpent
        return outcome
    }

    public func postExpiry(ofGrantCreatedBy grantKey: String, at effectiveAt: Instant, idempotencyKey: String) throws
        -> PostingOutcome
    {
        guard let (organisationID, grantID) = try grant(createdBy: grantKey) else { return PostingOutcome() }
        let hash = GrantOutflowHash.expiry(grantID: grantID, at: effectiveAt)
        if let existing = try existing(idempotencyKey, hash: { hash }) { return existing }
        let amount = try remaining(of: grantID, in: organisationID)
        guard amount.isPositive else { return PostingOutcome() }
        try draw(amount, fromGrant: grantID, of: organisationID)
        return record(idempotencyKey, hash: { hash }, amount, organisationID: organisationID)
    }

    // MARK: - State

    /// Runs `body` on the organisation's state in place (read from the ledger the first time), so
    /// a posting never copies the organisation's grants.
    @discardableResult
    private func organisation<T>(_ id: String, _ body: (inout SimulatedOrganisation) throws -> T) throws -> T {
        if organisations[id] == nil {
            organisations[id] = SimulatedOrganisation(
                state: try OrganisationPostingState.read(id, from: reader.sqlReadingNoBalances),
                owed: try LedgerReader.owedCredits(of: id, on: reader.sqlReadingNoBalances))
        }
        return try body(&organisations[id]!)
    }

    private func grant(createdBy key: String) throws -> (organisationID: String, id: Int64)? {
        if let simulated = grantsByKey[key] { return simulated }
        guard let grant = try reader.grant(createdByKey: key) else { return nil }
        return (grant.organisationID, grant.id)
    }

    /// What is left of a grant now; a grant the state no longer holds has nothing left.
    private func remaining(of grantID: Int64, in organisationID: String) throws -> Credits {
        try organisation(organisationID) { $0.state.grants.first { $0.id == grantID }?.remaining ?? .zero }
    }

    private func draw(_ credits: Credits, fromGrant grantID: Int64, of organisationID: String) throws {
        try organisation(organisationID) { organisation in
            guard try organisation.state.drew(credits, fromGrant: grantID) else {
                preconditionFailure("grant \(grantID) has credits left, so the state holds it")
            }
        }
    }

    /// The idempotency rule, as the ledger applies it: a key already posted (in the ledger or in
    /// this simulation) is that posting, or refused when its content differs. The content's hash
    /// is taken only for a key already posted.
    private func existing(_ key: String, hash: () -> String) throws -> PostingOutcome? {
        if let simulated = posted[key] {
            try LedgerTransaction.checkSameContent(key: key, existingID: simulated.id, existingHash: simulated.hash(), hash: hash())
            let owed = organisations[simulated.organisationID]?.owed.first { $0.transferID == simulated.id }
            return PostingOutcome(posted: simulated.credits, overdraft: owed?.credits ?? .zero)
        }
        guard let stored = try reader.postedKey(key) else { return nil }
        try LedgerTransaction.checkSameContent(key: key, existingID: stored.id, existingHash: stored.contentHash, hash: hash())
        return PostingOutcome(posted: stored.amount, overdraft: stored.uncovered)
    }

    private func record(_ key: String, hash: @escaping () -> String, _ credits: Credits, organisationID: String)
        -> PostingOutcome
    {
        posted[key] = SimulatedTransfer(id: nextTransferID, hash: hash, credits: credits, organisationID: organisationID)
        nextTransferID += 1
        return PostingOutcome(posted: credits)
    }
}

private struct SimulatedTransfer {
    let id: Int64
    /// Taken only if the key comes again (never, for a plan's unique keys).
    let hash: () -> String
    let credits: Credits
    let organisationID: String
}

private struct SimulatedOrganisation {
    var state: OrganisationPostingState
    /// Overdraft owed, oldest outflow first (what `LedgerReader.owedCredits` would read now).
    var owed: [OwedCredits]

    mutating func settled(_ settlements: [OverdraftSettlement.Settlement]) throws {
        for settlement in settlements {
            guard let index = owed.firstIndex(where: { $0.transferID == settlement.transferID }) else {
                preconditionFailure("a settlement pays what is owed")
            }
            let left = try owed[index].credits.subtracting(settlement.credits)
            if left.isPositive {
                owed[index] = OwedCredits(transferID: settlement.transferID, credits: left)
            } else {
                owed.remove(at: index)
            }
        }
    }
}
