/// Grants and consumption as they stood at a past instant (docs/LEDGER.md "Balances at a past
/// instant"), posting nothing: the draws the ledger recorded, counted when the outflow that made them
/// took effect; a grant exists from when it took effect (`granted_at`). So the figures are the burn-down
/// as it was: what a replay of the ledger up to the instant gives when the transfers were posted in
/// effective order (tested against such a replay, `AsOfQueriesTests`). An overdraft that a later grant
/// settled is still uncovered as of an instant before that grant.
extension LedgerReader {
    /// The organisation's grants that had taken effect at `instant`, oldest first, each with what was
    /// left of it then: its credits less the draws of outflows (deductions, expiries, voids) effective at
    /// or before the instant. The expiry shown is today's (a moved expiry shows where it now is).
    public func grants(of organisationID: String, asOf instant: Instant) throws -> [Grant] {
        try sql.records(
            """
            SELECT g.id, g.organisation_id, g.source, g.transfer_id, g.credits,
                g.credits - CAST(COALESCE((
                    SELECT SUM(d.credits) FROM grant_draws d JOIN transfers o ON o.id = d.transfer_id
                    WHERE d.grant_id = g.id AND o.effective_at <= ?1), 0) AS BIGINT),
                g.priority, g.expires_at, g.granted_at, g.cost_minor, g.currency
            FROM grants g WHERE g.organisation_id = ?2 AND g.granted_at <= ?1 ORDER BY g.id
            """,
            [.integer(instant.millisecondsSinceEpoch), .text(organisationID)]
        ).map { try Self.grant($0) }
    }

    /// Consumption grouped by team, investigation or operation, as it stood at `instant`: every deduction
    /// effective at or before it (and at or after `from`, when given), its credits, and its money as the
    /// cost of its draws on grants that had taken effect by then (an overdraft settled later costs 0 then).
    /// A usage run counts as its events (`usage_charges`), each with its event's attribution and own cost
    /// (a run has no overdraft, so its cost is final when posted). Sorted by key; "" where none.
    public func consumption(
        of organisationID: String, currency: Currency, by dimension: ConsumptionDimension, asOf instant: Instant,
        from: Instant? = nil
    ) throws -> [ConsumptionGroup] {
        try ConsumptionQueries.consumption(
            of: organisationID, currency: currency, by: dimension, asOf: instant, from: from, on: sql)
    }
}

/// Consumption as it stood at a past instant, in portable SQL (either store).
enum ConsumptionQueries {
    /// See `LedgerReader.consumption(of:currency:by:asOf:from:)`.
    static func consumption(
        of organisationID: String, currency: Currency, by dimension: ConsumptionDimension, asOf instant: Instant,
        from: Instant?, on sql: some SQLSession
    ) throws -> [ConsumptionGroup] {
        let column = dimension.rawValue
        return try sql.records(
            """
            SELECT key, COUNT(*), CAST(SUM(credits) AS BIGINT), CAST(SUM(money) AS BIGINT) FROM (
                SELECT COALESCE(t.\(column), '') AS key, t.amount AS credits,
                       COALESCE((
                           SELECT SUM(d.cost_minor) FROM grant_draws d JOIN grants g ON g.id = d.grant_id
                           WHERE d.transfer_id = t.id AND g.granted_at <= ?2), 0) AS money
                FROM transfers t
                WHERE t.organisation_id = ?1 AND t.kind = 'deduction' AND t.effective_at <= ?2
                  AND t.effective_at >= ?3
                  AND NOT EXISTS (SELECT 1 FROM usage_charges c WHERE c.transfer_id = t.id)
                UNION ALL
                SELECT COALESCE(c.\(column), ''), c.credits, c.cost_minor
                FROM transfers t JOIN usage_charges c ON c.transfer_id = t.id
                WHERE t.organisation_id = ?1 AND t.kind = 'deduction' AND t.effective_at <= ?2
                  AND t.effective_at >= ?3) AS usage
            GROUP BY key ORDER BY key COLLATE BINARY
            """,
            [.text(organisationID), .integer(instant.millisecondsSinceEpoch),
             .integer(from?.millisecondsSinceEpoch ?? Int64.min)]
        ).map { row in
            ConsumptionGroup(key: row.text(0), eventCount: row.int64(1), credits: Credits(microcredits: row.int64(2)),
                             money: Money(minorUnits: row.int64OrNil(3) ?? 0, currency: currency))
        }
    }
}
