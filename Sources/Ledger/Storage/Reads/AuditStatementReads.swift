import GRDB

extension LedgerReader {
    /// The audit statement of `organisationID` for transfers effective in `from..<to` (`AuditStatement`).
    /// Reads the window twice: once for the closing balance and the digest, once per `forEachEntry`.
    /// Call it on a read snapshot that stays open while the entries are read.
    public func auditStatement(of organisationID: String, from: Instant, to: Instant) throws -> AuditStatement {
        precondition(from < to, "an audit window is not empty")
        let opening = try balance(of: organisationID, asOf: from.adding(milliseconds: -1))
        let reader = self
        let forEachEntry: ((AuditEntry) throws -> Void) throws -> Void = { body in
            try reader.forEachAuditEntry(of: organisationID, from: from, to: to, opening: opening.available, body)
        }
        var digest = AuditStatementDigest(
            organisationID: organisationID, currency: opening.currency, from: from, to: to, opening: opening.available)
        var closing = opening.available
        var count = 0
        try forEachEntry { entry in
            digest.add(entry)
            closing = entry.balance
            count += 1
        }
        return AuditStatement(
            organisationID: organisationID, currency: opening.currency, from: from, to: to, opening: opening.available,
            closing: closing, entryCount: count, digest: digest.finish(closing: closing, entries: count),
            forEachEntry: forEachEntry)
    }

    private func forEachAuditEntry(
        of organisationID: String, from: Instant, to: Instant, opening: Credits, _ body: (AuditEntry) throws -> Void
    ) throws {
        var balance = opening
        let rows = try Row.fetchCursor(
            db,
            sql: "\(Self.transferSelect) WHERE t.organisation_id = ? AND t.effective_at >= ? AND t.effective_at < ? "
                + "ORDER BY t.effective_at, t.id",
            arguments: [organisationID, from.millisecondsSinceEpoch, to.millisecondsSinceEpoch])
        while let row = try rows.next() {
            let transfer = Self.transfer(row)
            let credits = transfer.signedAmount(for: organisationID)
            balance = try balance.adding(credits)
            let references = transfer.references
            try body(AuditEntry(
                transferID: transfer.id, effectiveAt: transfer.effectiveAt, recordedAt: transfer.recordedAt,
                kind: transfer.kind, credits: credits, money: transfer.signedMoney(for: organisationID),
                balance: balance, actor: transfer.actor, reason: references.memo,
                idempotencyKey: transfer.idempotencyKey,
                reference: references.costEventID ?? references.revolutOrderID ?? references.planPeriod))
        }
    }
}
