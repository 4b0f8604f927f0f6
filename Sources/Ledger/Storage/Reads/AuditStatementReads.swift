extension LedgerReader {
    /// The audit statement of `organisationID` for transfers effective in `from..<to` (`AuditStatement`).
    /// Reads the window twice: once for the closing balance and the digest, once per `forEachEntry`.
    /// Call it on a read snapshot that stays open while the entries are read.
    public func auditStatement(of organisationID: String, from: Instant, to: Instant) throws -> AuditStatement {
        try AuditStatementQueries.statement(of: organisationID, from: from, to: to, on: sql)
    }

    /// One page of the statement's movements (`AuditStatementQueries.entries`).
    public func auditEntries(
        of organisationID: String, from: Instant, to: Instant, afterTransferID: Int64?, limit: Int
    ) throws -> [AuditEntry]? {
        try AuditStatementQueries.entries(
            of: organisationID, from: from, to: to, afterTransferID: afterTransferID, limit: limit, on: sql)
    }
}

/// Audit statements, read in portable SQL (either store).
enum AuditStatementQueries {
    /// See `LedgerReader.auditStatement(of:from:to:)`.
    static func statement(
        of organisationID: String, from: Instant, to: Instant, on sql: some SQLSession
    ) throws -> AuditStatement {
        precondition(from < to, "an audit window is not empty")
        let opening = try BalanceQueries.balance(of: organisationID, asOf: from.adding(milliseconds: -1), on: sql)
        let forEachEntry: ((AuditEntry) throws -> Void) throws -> Void = { body in
            try forEachAuditEntry(of: organisationID, from: from, to: to, opening: opening.available, on: sql, body)
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

    /// One page of the statement's movements for `from..<to`: up to `limit` of them, in statement order,
    /// starting after the movement of transfer `afterTransferID` (from the first when nil), each with the
    /// running balance as the whole statement has it. Costs two indexed range sums (the opening balance
    /// and the movements of the window before the page) and the page itself, wherever the page starts.
    /// Nil when `afterTransferID` is not a movement of this statement.
    /// One page of the statement's movements for `from..<to`: up to `limit` of them, in statement order,
    /// starting after the movement of transfer `afterTransferID` (from the first when nil), each with the
    /// running balance as the whole statement has it. Costs two indexed range sums (the opening balance
    /// and the movements of the window before the page) and the page itself, wherever the page starts.
    /// Nil when `afterTransferID` is not a movement of this statement.
    static func entries(
        of organisationID: String, from: Instant, to: Instant, afterTransferID: Int64?, limit: Int,
        on sql: some SQLSession
    ) throws -> [AuditEntry]? {
        precondition(from < to && limit > 0, "a non-empty window and page")
        var balance = try BalanceQueries.balance(of: organisationID, asOf: from.adding(milliseconds: -1), on: sql).available
        var after: (effectiveAt: Int64, id: Int64)?
        if let afterTransferID {
            guard let effectiveAt = try sql.integer(
                "SELECT effective_at FROM transfers WHERE id = ? AND organisation_id = ? AND effective_at >= ? AND effective_at < ?",
                [.integer(afterTransferID), .text(organisationID), .integer(from.millisecondsSinceEpoch),
                 .integer(to.millisecondsSinceEpoch)])
            else { return nil }
            after = (effectiveAt, afterTransferID)
            let account = AccountID.available(organisationID: organisationID).rawValue
            guard let row = try sql.record(
                """
                SELECT CAST(COALESCE(SUM(CASE WHEN credit_account = ?1 THEN amount ELSE 0 END), 0) AS BIGINT),
                       CAST(COALESCE(SUM(CASE WHEN debit_account = ?1 THEN amount ELSE 0 END), 0) AS BIGINT)
                FROM transfers WHERE organisation_id = ?2 AND effective_at >= ?3
                    AND (effective_at < ?4 OR (effective_at = ?4 AND id <= ?5))
                """,
                [.text(account), .text(organisationID), .integer(from.millisecondsSinceEpoch), .integer(effectiveAt),
                 .integer(afterTransferID)])
            else { preconditionFailure("an aggregate answers one row") }
            balance = try balance.adding(try Credits(microcredits: row.int64(0)).subtracting(Credits(microcredits: row.int64(1))))
        }
        var entries: [AuditEntry] = []
        try forEachAuditEntry(
            of: organisationID, from: from, to: to, opening: balance, after: after, limit: limit, on: sql
        ) { entries.append($0) }
        return entries
    }

    private static func forEachAuditEntry(
        of organisationID: String, from: Instant, to: Instant, opening: Credits,
        after: (effectiveAt: Int64, id: Int64)? = nil, limit: Int? = nil, on session: some SQLSession,
        _ body: (AuditEntry) throws -> Void
    ) throws {
        var balance = opening
        var sql = "\(LedgerReader.transferSelect) WHERE t.organisation_id = ? AND t.effective_at >= ? AND t.effective_at < ? "
        var arguments: [SQLValue] = [
            .text(organisationID), .integer(from.millisecondsSinceEpoch), .integer(to.millisecondsSinceEpoch),
        ]
        if let after {
            sql += "AND (t.effective_at > ? OR (t.effective_at = ? AND t.id > ?)) "
            arguments += [.integer(after.effectiveAt), .integer(after.effectiveAt), .integer(after.id)]
        }
        sql += "ORDER BY t.effective_at, t.id"
        if let limit {
            sql += " LIMIT ?"
            arguments.append(SQLValue(limit))
        }
        try session.forEachRow(sql, arguments) { row in
            let transfer = try LedgerReader.transfer(row)
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
