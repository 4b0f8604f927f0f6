extension LedgerTransaction {
    /// Puts credits into an organisation's balance as a new grant: one transfer from the issuance
    /// (or adjustment) account to the organisation. Idempotent by `request.idempotencyKey`.
    /// Any overdraft the organisation carries is settled from the new grant first.
    public func grant(_ request: GrantRequest) throws -> Posting {
        try grant(request, keyIsNew: false)
    }

    /// `grant`; with `keyIsNew`, for a caller that knows no transfer holds the request's key (a night's
    /// top-ups, under `lockPostings`), its transfer and grant are appended rather than inserted one by
    /// one (`appendTransfer`).
    func grant(_ request: GrantRequest, keyIsNew: Bool) throws -> Posting {
        let terms = try GrantTerms.of(request, currency: try organisationFacts(request.organisationID).currency)
        let (price, burnRank, hash) = (terms.price, terms.burnRank, terms.contentHash)
        let debit: AccountID = request.source == .adjustment ? .adjustment : .issuance
        let credit = AccountID.available(organisationID: request.organisationID)
        let transfer: Transfer
        if keyIsNew {
            transfer = try appendTransfer(
                key: request.idempotencyKey, hash: hash, kind: request.kind, debit: debit, credit: credit,
                amount: request.credits, organisationID: request.organisationID, money: price,
                effectiveAt: request.effectiveAt, references: request.references)
        } else if let inserted = try insertTransfer(
            // The key is not probed up front: the insert finds it (a round trip less per top-up on PostgreSQL).
            key: request.idempotencyKey, hash: hash, kind: request.kind, debit: debit, credit: credit,
            amount: request.credits, organisationID: request.organisationID, money: price,
            effectiveAt: request.effectiveAt, references: request.references)
        {
            transfer = inserted
        } else {
            guard let existing = try existingTransfer(key: request.idempotencyKey, hash: hash) else {
                preconditionFailure("an insert refused for its idempotency key finds the transfer holding it")
            }
            return existing
        }
        // A new row: deferred draws from other grants may wait (see `PostingState`).
        let row = GrantRow(
            id: try postingState.nextID(of: .grants, in: session), organisationID: request.organisationID,
            source: request.source, transferID: transfer.id, credits: request.credits, burnRank: burnRank,
            expiresAt: request.expiresAt, grantedAt: request.effectiveAt, cost: price)
        if keyIsNew {
            postingState.append(row)
        } else {
            try session.run(GrantRow.insertOne, bind: row.bind)
        }
        postingState.added(to: .grants)
        let settled = try settleOverdraft(
            Grant(id: row.id, organisationID: request.organisationID, source: request.source, transferID: transfer.id,
                  credits: request.credits, remaining: request.credits, burnRank: burnRank, expiresAt: request.expiresAt,
                  grantedAt: request.effectiveAt, cost: price))
        try postingState.ifKnown(request.organisationID) { try $0.granted(settled) }
        return Posting(status: .posted, transfer: transfer.creating(grant: row.id), intoReserve: .zero, overdraft: .zero)
    }

    /// Expires what is left of a grant: one transfer from the organisation to the expiry account.
    /// Returns nil when nothing is left (there is nothing to post).
    public func expire(grantID: Int64, at effectiveAt: Instant, idempotencyKey: String) throws -> Posting? {
        guard let grant = try reader.grant(id: grantID) else { throw PostingRejection.grantNotFound(grantID) }
        let hash = GrantOutflowHash.expiry(grantID: grantID, at: effectiveAt)
        try lockOrganisation(grant.organisationID)
        if let existing = try existingTransfer(key: idempotencyKey, hash: hash) { return existing }
        guard grant.remaining.isPositive else { return nil }
        return try drawFromOneGrant(
            grant, credits: grant.remaining, kind: .expiry, credit: .expiry, key: idempotencyKey, hash: hash,
            effectiveAt: effectiveAt, references: TransferReferences(memo: "expiry of grant \(grantID)"))
    }

    /// Takes back up to `credits` of a grant that has not been spent (a refunded or charged-back
    /// top-up). Returns the posting (nil if nothing is left) and how many of the requested credits
    /// had already been spent and could not be taken back.
    public func reverse(
        grantID: Int64, credits: Credits, at effectiveAt: Instant, idempotencyKey: String,
        references: TransferReferences = TransferReferences()
    ) throws -> (posting: Posting?, alreadySpent: Credits) {
        guard credits.isPositive else { throw PostingRejection.amountMustBePositive }
        guard let grant = try reader.grant(id: grantID) else { throw PostingRejection.grantNotFound(grantID) }
        let hash = GrantOutflowHash.reversal(grantID: grantID, credits: credits, at: effectiveAt, references: references)
        try lockOrganisation(grant.organisationID)
        if let existing = try existingTransfer(key: idempotencyKey, hash: hash) {
            return (existing, try credits.subtracting(existing.transfer.amount))
        }
        let amount = min(credits, grant.remaining)
        let alreadySpent = try credits.subtracting(amount)
        guard amount.isPositive else { return (nil, alreadySpent) }
        let posting = try drawFromOneGrant(
            grant, credits: amount, kind: .reversal, credit: .issuance, key: idempotencyKey, hash: hash,
            effectiveAt: effectiveAt, references: references)
        return (posting, alreadySpent)
    }

    func drawFromOneGrant(
        _ grant: Grant, credits: Credits, kind: TransferKind, credit: AccountID, key: String, hash: String,
        effectiveAt: Instant, references: TransferReferences
    ) throws -> Posting {
        let cost = try GrantCost.draw(credits, from: grant)
        guard let transfer = try insertTransfer(
            key: key, hash: hash, kind: kind, debit: .available(organisationID: grant.organisationID), credit: credit,
            amount: credits, organisationID: grant.organisationID, money: cost, effectiveAt: effectiveAt,
            references: references)
        else { preconditionFailure("the key was probed above, in this transaction") }
        try recordDraw(transferID: transfer.id, organisationID: grant.organisationID, grantID: grant.id,
                       credits: credits, cost: cost)
        try postingState.ifKnown(grant.organisationID) { try $0.drew(credits, fromGrant: grant.id) }
        return Posting(status: .posted, transfer: transfer, intoReserve: .zero, overdraft: .zero)
    }

    /// Settles the organisation's overdraft from a new grant (`OverdraftSettlement`): each
    /// settlement moves credits of an outflow's uncovered draw onto the grant. Returns the grant
    /// as it is after.
    private func settleOverdraft(_ newGrant: Grant) throws -> Grant {
        // Draws are appended at once, never deferred: no flush needed to read them.
        let owed = try postingState.owedCredits(of: newGrant.organisationID, in: session)
        let (settlements, grant) = try OverdraftSettlement.settle(owed, from: newGrant)
        for settlement in settlements {
            try recordDraw(transferID: settlement.transferID, organisationID: grant.organisationID, grantID: nil,
                           credits: settlement.credits.negated, cost: .zero(grant.cost.currency))
            try recordDraw(transferID: settlement.transferID, organisationID: grant.organisationID, grantID: grant.id,
                           credits: settlement.credits, cost: settlement.cost)
        }
        return grant
    }
}
