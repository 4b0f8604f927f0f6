import Crypto

extension LedgerReader {
    /// A fingerprint of everything a reconcile plan is made from, read in a few indexed lookups: when it
    /// is unchanged since a plan was made (same as-of, same options), planning again would give the same
    /// plan, so reconcile returns the stored one without walking every staged event and order again.
    ///
    /// What it covers, and why each position suffices:
    /// - transfers, staged cost events, cost-event voids, order observations, grant expiry moves and
    ///   configuration changes are append-only: the highest id (rowid) moves with every row added;
    /// - purchases are added and then updated once (the Revolut order attached): their count and the
    ///   count of those with an order;
    /// - the loaded configuration (organisations, plans, packages, rate cards, operations) is its digest;
    /// - the plans applied so far (which orders a plan reports as newly matched): their count and the
    ///   latest applied instant.
    /// Anything else a plan reads (grants, accounts, reservations) changes only through the rows above.
    /// A test changes each input in turn and expects a new plan (`PlanInputsTests`).
    public func planInputs() throws -> String {
        // Staged events and voids have no id on PostgreSQL: their count moves with every row added too
        // (on SQLite the highest rowid is one lookup, where a count walks a million rows).
        let staged = isSQLite
            ? "(SELECT COALESCE(MAX(rowid), 0) FROM cost_events), (SELECT COALESCE(MAX(rowid), 0) FROM cost_event_voids)"
            : "(SELECT COUNT(*) FROM cost_events), (SELECT COUNT(*) FROM cost_event_voids)"
        guard let row = try sql.record("""
            SELECT
                (SELECT COALESCE(MAX(id), 0) FROM transfers),
                \(staged),
                (SELECT COALESCE(MAX(id), 0) FROM revolut_order_observations),
                (SELECT COALESCE(MAX(id), 0) FROM grant_expiry_moves),
                (SELECT COALESCE(MAX(id), 0) FROM configuration_changes),
                (SELECT COUNT(*) || ':' || COUNT(revolut_order_id) FROM purchases),
                (SELECT COALESCE(value, '') FROM meta WHERE key = 'configuration_digest'),
                (SELECT COUNT(*) || ':' || COALESCE(MAX(applied_at), 0) FROM reconcile_plans WHERE status = 'applied')
            """)
        else { preconditionFailure("a row of subqueries answers one row") }
        let fields = row.values.map { value in
            switch value {
            case .null: "NULL"
            case .integer(let integer): String(integer)
            case .text(let text): text
            }
        }
        return ContentHash.of(["plan-inputs v2"] + fields)
    }
}

extension LedgerTransaction {
    /// Records that `planID`'s plan still holds for the inputs `inputs` (a rerun that kept it).
    public func recordPlanInputs(planID: Int64, inputs: String) throws {
        try sql.execute("UPDATE reconcile_plans SET inputs = ? WHERE id = ?", [.text(inputs), .integer(planID)])
    }
}
