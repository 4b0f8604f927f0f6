import GRDB

extension LedgerTransaction {
    /// Takes credits out of an organisation's balance: one transfer to the consumption (or
    /// adjustment) account, drawn from grants in burn-down order. Grants that expired before the
    /// spend's effective time are skipped. Idempotent by `request.idempotencyKey`.
    ///
    /// The spendable balance for the work's priority is `available - reservations it may not use`.
    /// `.withinSpendable` refuses anything beyond it; `.allowOverdraft(limit:)` charges usage that
    /// already happened down to `-limit` and reports how much went into reserves and overdraft.
    public func spend(_ request: SpendRequest) throws -> Posting {
        guard !request.idempotencyKey.isEmpty else { throw PostingRejection.idempotencyKeyMustNotBeEmpty }
        guard request.credits.isPositive else { throw PostingRejection.amountMustBePositive }
        let organisation = try organisationFacts(request.organisationID)
        let hash = ContentHash.of([
            "spend", request.purpose.rawValue, request.organisationID, "\(request.credits.microcredits)",
            "\(request.effectiveAt.millisecondsSinceEpoch)",
        ] + ContentHash.fields(request.references))
        if let existing = try existingTransfer(key: request.idempotencyKey, hash: hash) { return existing }

        let balance = try reader.balance(of: request.organisationID)
        let spendable = balance.spendable(for: request.priority)
        let intoReserve: Credits
        switch request.policy {
        case .withinSpendable:
            guard request.credits <= spendable else {
                throw PostingRejection.exceedsSpendable(
                    requested: request.credits, spendable: max(spendable, .zero),
                    blockedBy: balance.available.isPositive ? .reserveFloor : .zeroBalance)
            }
            intoReserve = .zero
        case .allowOverdraft(let limit):
            let after = try balance.available.subtracting(request.credits)
            guard after >= limit.negated else {
                throw PostingRejection.exceedsOverdraftLimit(
                    requested: request.credits, available: balance.available, limit: limit)
            }
            let beyondSpendable = try request.credits.subtracting(max(spendable, .zero))
            let beyondAvailable = try request.credits.subtracting(max(balance.available, .zero))
            intoReserve = try max(.zero, beyondSpendable).subtracting(max(.zero, beyondAvailable))
        }

        let kind: TransferKind = request.purpose == .deduction ? .deduction : .adjustment
        let credit: AccountID = request.purpose == .deduction ? .consumption : .adjustment
        let plan = try planBurnDown(
            request.credits, organisationID: request.organisationID, at: request.effectiveAt,
            currency: organisation.currency)
        let transferID = try insertTransfer(
            key: request.idempotencyKey, hash: hash, kind: kind,
            debit: .available(organisationID: request.organisationID), credit: credit, amount: request.credits,
            organisationID: request.organisationID, money: plan.cost, effectiveAt: request.effectiveAt,
            references: request.references)
        for draw in plan.draws {
            try recordDraw(transferID: transferID, organisationID: request.organisationID, grantID: draw.grantID,
                           credits: draw.credits, cost: draw.cost)
        }
        return Posting(
            status: .posted, transfer: try reader.transfer(id: transferID)!, intoReserve: intoReserve,
            overdraft: plan.uncovered)
    }

    /// Plans the draws of `credits` from the organisation's grants in burn-down order; what no
    /// grant covers becomes one uncovered (overdraft) draw with no cost basis.
    private func planBurnDown(
        _ credits: Credits, organisationID: String, at effectiveAt: Instant, currency: Currency
    ) throws -> (draws: [(grantID: Int64?, credits: Credits, cost: Money)], cost: Money, uncovered: Credits) {
        var needed = credits
        var cost = Money.zero(currency)
        var draws: [(grantID: Int64?, credits: Credits, cost: Money)] = []
        for grant in try reader.spendableGrants(of: organisationID, at: effectiveAt) where needed.isPositive {
            let take = min(needed, grant.remaining)
            let drawCost = try GrantCost.draw(take, from: grant)
            draws.append((grant.id, take, drawCost))
            needed = try needed.subtracting(take)
            cost = try cost.adding(drawCost)
        }
        if needed.isPositive { draws.append((nil, needed, .zero(currency))) }
        return (draws, cost, needed)
    }
}
