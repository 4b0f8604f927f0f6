import GRDB

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
        guard !request.idempotencyKey.isEmpty else { throw PostingRejection.idempotencyKeyMustNotBeEmpty }
        guard request.credits.isPositive else { throw PostingRejection.amountMustBePositive }
        var state = try postingState.state(of: request.organisationID, in: connection)
        let hash = ContentHash.of([
            "spend", request.purpose.rawValue, request.organisationID, "\(request.credits.microcredits)",
            "\(request.effectiveAt.millisecondsSinceEpoch)",
        ] + ContentHash.fields(request.references))
        // The idempotency rule comes before every other: a key already posted is answered by its
        // transfer (or refused for different content) whatever the balance says now. The key is
        // not probed up front: the insert below finds it, and only a refusal probes for it here.
        let intoReserve: Credits
        let plan: (draws: [BurnDown.Draw], cost: Money, uncovered: Credits)
        do {
            intoReserve = try Self.intoReserve(request, balance: state.balance(spendableAt: request.effectiveAt))
            plan = try BurnDown.plan(request.credits, from: state, at: request.effectiveAt)
        } catch {
            if let existing = try existingTransfer(key: request.idempotencyKey, hash: hash) { return existing }
            throw error
        }

        let kind: TransferKind = request.purpose == .deduction ? .deduction : .adjustment
        let credit: AccountID = request.purpose == .deduction ? .consumption : .adjustment
        guard let transfer = try insertTransfer(
            key: request.idempotencyKey, hash: hash, kind: kind,
            debit: .available(organisationID: request.organisationID), credit: credit, amount: request.credits,
            organisationID: request.organisationID, money: plan.cost, effectiveAt: request.effectiveAt,
            references: request.references)
        else {
            guard let existing = try existingTransfer(key: request.idempotencyKey, hash: hash) else {
                preconditionFailure("an insert refused for its idempotency key finds the transfer holding it")
            }
            return existing
        }
        for draw in plan.draws {
            try recordDraw(transferID: transfer.id, organisationID: request.organisationID,
                           grantID: draw.grantIndex.map { state.grants[$0].id }, credits: draw.credits, cost: draw.cost)
        }
        try state.spent(request.credits, draws: plan.draws.compactMap { draw in draw.grantIndex.map { ($0, draw.credits) } })
        postingState.update(state)
        return Posting(status: .posted, transfer: transfer, intoReserve: intoReserve, overdraft: plan.uncovered)
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
        for (index, grant) in state.grants.enumerated() where needed.isPositive && grant.isSpendable(at: effectiveAt) {
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
