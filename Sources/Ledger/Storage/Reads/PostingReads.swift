// What posting and its simulation read besides an organisation's balance and grants
// (`OrganisationPostingState.read`). Transfers and draws are appended at once, never deferred, so
// these leave a transaction's deferred balance changes deferred.
extension LedgerReader {
    /// The overdraft an organisation owes, oldest outflow first (`OverdraftSettlement`).
    ///
    /// Read for every grant posted (a night's top-ups), and almost always nothing: read off the
    /// statement, not through rows (`PostingSession.all`, one round trip on PostgreSQL).
    static func owedCredits(of organisationID: String, on session: any PostingSession) throws -> [OwedCredits] {
        try session.all(
            """
            SELECT transfer_id, CAST(SUM(credits) AS BIGINT) FROM grant_draws
            WHERE organisation_id = ? AND grant_id IS NULL
            GROUP BY transfer_id HAVING SUM(credits) > 0 ORDER BY transfer_id
            """,
            bind: { $0.add(organisationID) },
            read: { OwedCredits(transferID: $0.int64(0), credits: Credits(microcredits: $0.int64(1))) })
    }

    /// The transfer holding an idempotency key: its id, content hash, amount and the credits of it
    /// no grant covers.
    ///
    /// Reconcile asks this for every deduction it plans, and it finds nothing for all but a rerun's:
    /// read off the statement (`PostingSession.first`), not through rows.
    func postedKey(_ key: String) throws -> (id: Int64, contentHash: String, amount: Credits, uncovered: Credits)? {
        try sqlReadingNoBalances.first(
            """
            SELECT t.id, t.content_hash, t.amount,
                (SELECT CAST(COALESCE(SUM(d.credits), 0) AS BIGINT) FROM grant_draws d
                 WHERE d.transfer_id = t.id AND d.grant_id IS NULL)
            FROM transfers t WHERE t.idempotency_key = ?
            """,
            bind: { $0.add(key) },
            read: { row in
                (row.int64(0), row.text(1), Credits(microcredits: row.int64(2)), Credits(microcredits: row.int64(3)))
            })
    }

    /// The ids the next transfer and the next grant will get: one more than the largest. SQLite gives
    /// exactly those; PostgreSQL's identity sequences give those or larger (a sequence skips the numbers
    /// of rolled-back inserts), in the same order, which is all a simulation's decisions depend on (grants
    /// of equal rank burn down by id, overdraft settles the oldest transfer first).
    func nextRowIDs() throws -> (transfer: Int64, grant: Int64) {
        guard let row = try sqlReadingNoBalances.record(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM transfers), (SELECT COALESCE(MAX(id), 0) FROM grants)")
        else { preconditionFailure("a row of subqueries answers one row") }
        return (row.int64(0) + 1, row.int64(1) + 1)
    }

    /// The deduction that charged a cost event: its own (the live path, and deductions posted before
    /// usage runs) or the usage run holding it; nil when the event is not charged.
    public func deductionCharging(costEventID: String) throws -> Int64? {
        try CostEventVoidQueries.deductionCharging(costEventID: costEventID, on: sqlReadingNoBalances)
    }
}
