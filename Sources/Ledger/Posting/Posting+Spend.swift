extension LedgerTransaction {
    /// Takes credits out of an organisation's balance: one transfer to the consumption (or
    /// adjustment) account, drawn from grants in burn-down order. Grants that expired before the
    /// spend's effective time are skipped. Idempotent by `request.idempotencyKey`.
    ///
    /// The spendable balance for the work's priority is `available - reservations it may not use`,
    /// where `available` leaves out what is left on grants expired by the spend's effective time
    /// whose expiry is not posted yet (those credits are about to go).
    /// `.withinSpendable` refuses anything beyond it; `.allowOverdraft(limit:)` charges usage that
    /// already happened down to `-limit` and reports how much went into reserves and overdraft.
    public func spend(_ request: SpendRequest) throws -> Posting {
        try spend(request, held: .none)
    }

    /// `spend`, with the budgets on the spend's path also counting what open holds promise (`held`).
    /// A deduction must pass every hard budget on its path (`BudgetBook.check`, the rule batch usage
    /// meets too), checked before the balance: a scope over its budget is refused as over budget
    /// whatever the balance.
    func spend(_ request: SpendRequest, held: ScopeHolds) throws -> Posting {
        try request.check()
        let budgeted = BudgetedSpend(request)
        let organisationID = request.organisationID
        let hash = request.contentHash
        try lockOrganisation(organisationID)
        // The idempotency rule comes before every other: a key already posted is answered by its
        // transfer (or refused for different content) whatever the balance says now. The key is
        // not probed up front: the insert below finds it, and only a refusal probes for it here.
        let decision: SpendDecision
        let budget: BudgetCheck?
        do {
            budget = try budgeted.map { try postingState.checkBudgets($0, held: held, in: session) }
            decision = try postingState.withState(of: organisationID, in: session) {
                try SpendDecision.decide(request, from: $0)
            }
        } catch {
            if let existing = try existingTransfer(key: request.idempotencyKey, hash: hash) { return existing }
            throw error
        }

        let kind: TransferKind = request.purpose == .deduction ? .deduction : .adjustment
        let credit: AccountID = request.purpose == .deduction ? .consumption : .adjustment
        guard let transfer = try insertTransfer(
            key: request.idempotencyKey, hash: hash, kind: kind,
            debit: .available(organisationID: request.organisationID), credit: credit, amount: request.credits,
            organisationID: request.organisationID, money: decision.cost, effectiveAt: request.effectiveAt,
            references: request.references)
        else {
            guard let existing = try existingTransfer(key: request.idempotencyKey, hash: hash) else {
                preconditionFailure("an insert refused for its idempotency key finds the transfer holding it")
            }
            return existing
        }
        let grantIDs = try postingState.withState(of: organisationID, in: session) { state in
            decision.draws.map { draw in draw.grantIndex.map { state.grants[$0].id } }
        }
        for (draw, grantID) in zip(decision.draws, grantIDs) {
            try recordDraw(transferID: transfer.id, organisationID: organisationID, grantID: grantID,
                           credits: draw.credits, cost: draw.cost)
        }
        try postingState.withState(of: organisationID, in: session) { try $0.spent(request.credits, draws: decision.draws) }
        if let budgeted, let budget { try postingState.charged(budgeted, day: budget.day, in: session) }
        return Posting(status: .posted, transfer: transfer, intoReserve: decision.intoReserve, overdraft: decision.uncovered,
                       budgetWarnings: budget?.softExceeded ?? [])
    }
}

/// How a spend burns an organisation's grants down.
enum BurnDown {
    struct Draw {
        /// Position of the grant in the organisation's posting state; nil for credits no grant
        /// covers (overdraft), which carry no cost basis.
        let grantIndex: Int?
        let credits: Credits
        let cost: Money
    }

    /// Plans the draws of `credits` from the grants not expired at `effectiveAt`, in burn-down
    /// order; what no grant covers becomes one uncovered (overdraft) draw.
    static func plan(
        _ credits: Credits, from state: OrganisationPostingState, at effectiveAt: Instant
    ) throws -> (draws: [Draw], cost: Money, uncovered: Credits) {
        var needed = credits
        var cost = Money.zero(state.currency)
        var draws: [Draw] = []
        for (index, grant) in state.grants.enumerated() where grant.isSpendable(at: effectiveAt) {
            guard needed.isPositive else { break }
            let take = min(needed, grant.remaining)
            let drawCost = try GrantCost.draw(take, from: grant)
            draws.append(Draw(grantIndex: index, credits: take, cost: drawCost))
            needed = try needed.subtracting(take)
            cost = try cost.adding(drawCost)
        }
        if needed.isPositive { draws.append(Draw(grantIndex: nil, credits: needed, cost: .zero(state.currency))) }
        return (draws, cost, needed)
    }
}
