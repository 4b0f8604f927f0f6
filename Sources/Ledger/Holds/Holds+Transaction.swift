// Holds in a write transaction: create, settle, release, and the spendable balance that counts them.
// Every decision asks `Balance.refusal`, the rule the gate and the posting ask. Settling posts through
// `spend`, the posting `POST /v1/usage` uses. Portable SQL: the same on both stores. Each change
// locks the hold's organisation first (`PostingSession.lockOrganisation`), so replicas on PostgreSQL
// decide on one state of its balance and holds, as SQLite's single writer does.

extension LedgerTransaction {
    /// The balance work at `instant` may spend from, counting the credits open holds promise at this
    /// transaction's `now` (all but `excludingHold`, the hold being settled). Grants expired by
    /// `instant` whose expiry is not posted yet are left out, exactly as the posting leaves them out.
    public func spendableBalance(
        of organisationID: String, spendableAt instant: Instant, excludingHold: Int64? = nil
    ) throws -> Balance {
        let balance = try postingState.withState(of: organisationID, in: session) {
            try $0.balance(spendableAt: instant)
        }
        return balance.holding(try HoldQueries.held(
            organisationID: organisationID, at: now, excluding: excludingHold, in: session))
    }

    /// `spend` for live work, which must leave what open holds promise alone: refused with the
    /// spending rule (`exceedsSpendable`) when the balance less open holds does not cover it, then
    /// posted by `spend`. A key already posted is answered by its transfer, as `spend` answers it.
    public func spendLeavingHolds(_ request: SpendRequest) throws -> Posting {
        let balance = try spendableBalance(of: request.organisationID, spendableAt: request.effectiveAt)
        if let refusal = balance.refusal(spending: request.credits, priority: request.priority) {
            if let existing = try existingTransfer(key: request.idempotencyKey, hash: request.contentHash) {
                return existing
            }
            throw PostingRejection.exceedsSpendable(
                requested: refusal.requested, spendable: refusal.spendable, blockedBy: refusal.rule)
        }
        return try spend(request, held: try heldByScope(request.organisationID, excludingHold: nil))
    }

    /// What open holds promise on each scope, for the budgets (read only when the organisation has any).
    func heldByScope(_ organisationID: String, excludingHold: Int64?) throws -> ScopeHolds {
        guard try postingState.budgets.hasBudgets(organisationID, in: session) else { return .none }
        return try ScopeHolds.read(organisationID: organisationID, at: now, excluding: excludingHold, in: session)
    }

    /// Creates a hold of `request.credits` for `request.expiresInSeconds` from now, if the balance less
    /// every open hold covers it for the investigation's priority; a retry with the same key and request
    /// finds the hold it created.
    public func createHold(_ request: HoldRequest) throws -> HoldOutcome {
        try Self.check(request)
        let hash = request.contentHash
        try lockOrganisation(request.organisationID)
        if let existing = try HoldQueries.hold(idempotencyKey: request.idempotencyKey, in: session) {
            guard existing.hash == hash else {
                throw HoldRejection.idempotencyKeyReusedWithDifferentContent(
                    key: request.idempotencyKey, existingHoldID: existing.hold.id)
            }
            return HoldOutcome(hold: existing.hold, created: false)
        }
        let priority = try workPriority(
            organisationID: request.organisationID, team: request.team, investigation: request.investigation)
        let balance = try spendableBalance(of: request.organisationID, spendableAt: now)
        do {
            _ = try postingState.checkBudgets(
                BudgetedSpend(organisationID: request.organisationID, team: request.team,
                              investigation: request.investigation, credits: request.credits, effectiveAt: now),
                held: try heldByScope(request.organisationID, excludingHold: nil), in: session)
        } catch PostingRejection.budgetExceeded(let refusal) {
            throw HoldRejection.refused(refusal)
        }
        if let refusal = balance.refusal(spending: request.credits, priority: priority, as: .hold) {
            throw HoldRejection.refused(refusal)
        }
        guard let actorText else { throw PostingRejection.actorRequired }
        let expiresAt = now.adding(milliseconds: request.expiresInSeconds * 1000)
        let hold = try HoldQueries.insert(
            request, hash: hash, createdAt: now, expiresAt: expiresAt, actor: actorText, in: session)
        return HoldOutcome(hold: hold, created: true)
    }

    /// Settles hold `id` with the `actual` credits: one deduction (`deduction:hold:<id>`) posted by
    /// `spend`, exactly once. `actual` may be below, equal to or up to `Hold.settleTolerancePercent`
    /// above the estimate; it must be spendable with the hold's own credits counted as the job's (the
    /// hold no longer promises anything once it is settled). A repeated settle with the same credits
    /// answers the same deduction; with other credits it is refused. `organisationID` (a caller's
    /// organisation, nil for a platform admin) hides other organisations' holds.
    public func settleHold(id: Int64, credits actual: Credits, organisationID: String?) throws -> HoldSettlement {
        let hold = try visibleHold(id: id, organisationID: organisationID)
        switch hold.state {
        case .settled:
            guard hold.settledCredits == actual, let transferID = hold.settlementTransferID,
                  let transfer = try reader.transfer(id: transferID)
            else { throw HoldRejection.holdAlreadySettled(id) }
            return HoldSettlement(hold: hold, transfer: transfer, posted: false)
        case .released:
            throw HoldRejection.holdReleased(id)
        case .open:
            break
        }
        guard actual.isPositive else { throw HoldRejection.estimateMustBePositive }
        guard actual <= hold.settleCeiling else {
            throw HoldRejection.settleAboveTolerance(requested: actual, ceiling: hold.settleCeiling)
        }
        let priority = try workPriority(
            organisationID: hold.organisationID, team: hold.team, investigation: hold.investigation)
        let balance = try spendableBalance(of: hold.organisationID, spendableAt: now, excludingHold: hold.id)
        if let refusal = balance.refusal(spending: actual, priority: priority, as: .hold) {
            throw HoldRejection.refused(refusal)
        }
        let held = try heldByScope(hold.organisationID, excludingHold: hold.id)
        let posting: Posting
        do {
            posting = try spend(SpendRequest(
            idempotencyKey: IdempotencyKey.holdSettlement(holdID: hold.id), organisationID: hold.organisationID,
            purpose: .deduction, credits: actual, effectiveAt: now, priority: priority, policy: .withinSpendable,
            references: TransferReferences(
                team: hold.team, investigation: hold.investigation, operation: hold.operation,
                memo: "hold \(hold.id)")), held: held)
        } catch PostingRejection.budgetExceeded(let refusal) {
            throw HoldRejection.refused(refusal)
        }
        try HoldQueries.close(
            id: hold.id, state: .settled, at: now, by: actorText, settledCredits: actual,
            transferID: posting.transfer.id, in: session)
        guard let settled = try HoldQueries.hold(id: hold.id, in: session) else {
            preconditionFailure("hold \(hold.id) was just settled")
        }
        return HoldSettlement(hold: settled, transfer: posting.transfer, posted: posting.status == .posted)
    }

    /// Releases hold `id`: it promises nothing from now on. Releasing a released (or expired) hold is
    /// harmless; a settled hold cannot be released.
    public func releaseHold(id: Int64, organisationID: String?) throws -> Hold {
        let hold = try visibleHold(id: id, organisationID: organisationID)
        switch hold.state {
        case .released: return hold
        case .settled: throw HoldRejection.holdAlreadySettled(id)
        case .open: break
        }
        try HoldQueries.close(
            id: hold.id, state: .released, at: now, by: actorText, settledCredits: nil, transferID: nil,
            in: session)
        guard let released = try HoldQueries.hold(id: hold.id, in: session) else {
            preconditionFailure("hold \(hold.id) was just released")
        }
        return released
    }

    /// The hold, as it stands once its organisation is locked (so no other transaction settles or releases
    /// it meanwhile); not found when `organisationID` is given and is not the hold's.
    private func visibleHold(id: Int64, organisationID: String?) throws -> Hold {
        guard let found = try HoldQueries.hold(id: id, in: session),
              organisationID.map({ $0 == found.organisationID }) ?? true
        else { throw HoldRejection.holdNotFound(id) }
        try lockOrganisation(found.organisationID)
        guard let hold = try HoldQueries.hold(id: id, in: session) else { throw HoldRejection.holdNotFound(id) }
        return hold
    }

    /// The priority the work runs at: its investigation's, or none. Refuses a team or investigation the
    /// organisation does not configure, since a hold is a promise made before any work exists.
    private func workPriority(organisationID: String, team: String, investigation: String?) throws -> Priority {
        let found = try HoldQueries.configured(
            organisationID: organisationID, team: team, investigation: investigation, in: session)
        guard found.organisation else { throw HoldRejection.organisationNotFound(organisationID) }
        guard found.team else { throw HoldRejection.unknownTeam(team) }
        guard let investigation else { return .unprioritised }
        guard let rank = found.investigationPriority, let priority = Priority(rank: Int(rank)) else {
            throw HoldRejection.unknownInvestigation(investigation)
        }
        return priority
    }

    private static func check(_ request: HoldRequest) throws {
        guard (1...Hold.idempotencyKeyBytesMax).contains(request.idempotencyKey.utf8.count) else {
            throw HoldRejection.idempotencyKeyLength
        }
        guard request.credits.isPositive else { throw HoldRejection.estimateMustBePositive }
        guard request.credits <= Credits.transferMax else { throw HoldRejection.amountAboveTransferLimit }
        guard (1...Hold.expirySecondsMax).contains(request.expiresInSeconds) else {
            throw HoldRejection.expiryOutOfRange
        }
        let references: [(String, String?)] = [
            ("team", request.team), ("investigation", request.investigation), ("operation", request.operation),
        ]
        for (field, value) in references {
            if let value, !(1...Hold.referenceBytesMax).contains(value.utf8.count) {
                throw HoldRejection.referenceLength(field: field)
            }
        }
    }
}

extension LedgerReader {
    /// Credits the organisation's open holds promise at `instant` (holds past their expiry promise nothing).
    public func heldCredits(of organisationID: String, at instant: Instant) throws -> Credits {
        try HoldQueries.held(organisationID: organisationID, at: instant, excluding: nil, in: sqlReadingNoBalances)
    }

    /// Credits the organisation's holds promised at a past `instant`, as they stood then: made at or
    /// before it, not yet expired, and not settled or released by then.
    public func heldCredits(of organisationID: String, asOf instant: Instant) throws -> Credits {
        let sum = try sqlReadingNoBalances.first(
            """
            SELECT CAST(COALESCE(SUM(credits), 0) AS BIGINT) FROM holds
            WHERE organisation_id = ?1 AND created_at <= ?2 AND expires_at > ?2
                AND (closed_at IS NULL OR closed_at > ?2)
            """,
            bind: {
                $0.add(organisationID)
                $0.add(instant.millisecondsSinceEpoch)
            },
            read: { $0.int64(0) }) ?? 0
        return Credits(microcredits: sum)
    }

    /// The organisation's holds open at `instant`, oldest first, optionally of one team or investigation.
    public func openHolds(
        of organisationID: String, at instant: Instant, team: String? = nil, investigation: String? = nil
    ) throws -> [Hold] {
        try HoldQueries.open(
            organisationID: organisationID, at: instant, team: team, investigation: investigation,
            in: sqlReadingNoBalances)
    }

    public func hold(id: Int64) throws -> Hold? {
        try HoldQueries.hold(id: id, in: sqlReadingNoBalances)
    }
}

/// The SQL of holds.
enum HoldQueries {
    static let columns = """
        id, organisation_id, team, investigation, operation, credits, idempotency_key, created_at, expires_at, actor,
        state, closed_at, settled_credits, settlement_transfer_id, content_hash
        """

    static func held(organisationID: String, at instant: Instant, excluding: Int64?, in sql: some SQLSession) throws -> Credits {
        let sum = try sql.integer(
            """
            SELECT CAST(COALESCE(SUM(credits), 0) AS BIGINT) FROM holds
            WHERE organisation_id = ? AND state = 'open' AND expires_at > ? AND id IS DISTINCT FROM ?
            """,
            [.text(organisationID), .integer(instant.millisecondsSinceEpoch), SQLValue(excluding)]) ?? 0
        return Credits(microcredits: sum)
    }

    static func open(
        organisationID: String, at instant: Instant, team: String?, investigation: String?,
        in sql: some PostingSession
    ) throws -> [Hold] {
        try sql.all(
            """
            SELECT \(columns) FROM holds
            WHERE organisation_id = ?1 AND state = 'open' AND expires_at > ?2
                AND (CAST(?3 AS TEXT) IS NULL OR team = ?3) AND (CAST(?4 AS TEXT) IS NULL OR investigation = ?4)
            ORDER BY id
            """,
            bind: {
                $0.add(organisationID)
                $0.add(instant.millisecondsSinceEpoch)
                $0.add(team)
                $0.add(investigation)
            },
            read: { hold(from: $0).hold })
    }

    static func hold(id: Int64, in sql: some PostingSession) throws -> Hold? {
        try sql.first("SELECT \(columns) FROM holds WHERE id = ?", bind: { $0.add(id) }, read: { hold(from: $0).hold })
    }

    static func hold(idempotencyKey: String, in sql: some PostingSession) throws -> (hold: Hold, hash: String)? {
        try sql.first(
            "SELECT \(columns) FROM holds WHERE idempotency_key = ?", bind: { $0.add(idempotencyKey) },
            read: hold(from:))
    }

    static func insert(
        _ request: HoldRequest, hash: String, createdAt: Instant, expiresAt: Instant, actor: String,
        in sql: some PostingSession
    ) throws -> Hold {
        let inserted = try sql.first(
            """
            INSERT INTO holds (organisation_id, team, investigation, operation, credits, idempotency_key, content_hash,
                created_at, expires_at, actor, state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')
            RETURNING \(columns)
            """,
            bind: {
                $0.add(request.organisationID)
                $0.add(request.team)
                $0.add(request.investigation)
                $0.add(request.operation)
                $0.add(request.credits.microcredits)
                $0.add(request.idempotencyKey)
                $0.add(hash)
                $0.add(createdAt.millisecondsSinceEpoch)
                $0.add(expiresAt.millisecondsSinceEpoch)
                $0.add(actor)
            },
            read: { hold(from: $0).hold })
        guard let inserted else { preconditionFailure("an INSERT ... RETURNING returns the row it inserted") }
        return inserted
    }

    static func close(
        id: Int64, state: HoldState, at instant: Instant, by actor: String?, settledCredits: Credits?, transferID: Int64?,
        in sql: some PostingSession
    ) throws {
        precondition(state != .open, "closing a hold settles or releases it")
        guard let actor else { throw PostingRejection.actorRequired }
        let changed = try sql.run(
            """
            UPDATE holds SET state = ?, closed_at = ?, closed_by = ?, settled_credits = ?, settlement_transfer_id = ?
            WHERE id = ? AND state = 'open'
            """,
            bind: {
                $0.add(state.rawValue)
                $0.add(instant.millisecondsSinceEpoch)
                $0.add(actor)
                $0.add(settledCredits?.microcredits)
                $0.add(transferID)
                $0.add(id)
            })
        precondition(changed == 1, "hold \(id) was open when this transaction read it")
    }

    /// Whether the organisation, its team and its investigation are configured (the investigation's priority).
    static func configured(
        organisationID: String, team: String, investigation: String?, in sql: some PostingSession
    ) throws -> (organisation: Bool, team: Bool, investigationPriority: Int64?) {
        try sql.first(
            """
            SELECT EXISTS (SELECT 1 FROM teams WHERE organisation_id = ?1 AND id = ?2),
                (SELECT priority FROM investigations WHERE organisation_id = ?1 AND id = ?3)
            FROM organisations WHERE id = ?1
            """,
            bind: {
                $0.add(organisationID)
                $0.add(team)
                $0.add(investigation)
            },
            read: { row in (true, row.int64(0) != 0, row.int64OrNil(1)) }) ?? (false, false, nil)
    }

    private static func hold(from row: any SQLColumns) -> (hold: Hold, hash: String) {
        guard let state = HoldState(rawValue: row.text(10)) else {
            preconditionFailure("holds.state is CHECKed to open, settled or released")
        }
        let hold = Hold(
            id: row.int64(0), organisationID: row.text(1), team: row.text(2), investigation: row.textOrNil(3),
            operation: row.text(4), credits: Credits(microcredits: row.int64(5)), idempotencyKey: row.text(6),
            createdAt: Instant(millisecondsSinceEpoch: row.int64(7)), expiresAt: Instant(millisecondsSinceEpoch: row.int64(8)),
            actor: row.text(9), state: state, closedAt: row.int64OrNil(11).map(Instant.init(millisecondsSinceEpoch:)),
            settledCredits: row.int64OrNil(12).map(Credits.init(microcredits:)), settlementTransferID: row.int64OrNil(13))
        return (hold, row.text(14))
    }
}
