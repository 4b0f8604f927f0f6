import GRDB

extension Schema {
    /// The organisation's available balance right after each transfer, in posting order
    /// (`transfers.balance_after`), so history shows the balance before and after every entry without
    /// summing the organisation's earlier transfers for each row.
    ///
    /// Transfers already there are filled in by one set-based pass (a running sum per organisation in
    /// id order); the append-only trigger is lifted for that statement only and put back as it was. New
    /// transfers must fill it: a trigger refuses one that does not, and `verify` recomputes every value
    /// (`balancesAfterDerivable`). Derived, like the account totals, so the digest leaves it out.
    static func recordBalancesAfter(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE transfers ADD COLUMN balance_after INTEGER;
            DROP TRIGGER transfers_are_append_only_update;
            UPDATE transfers SET balance_after = r.after
            FROM (
                SELECT id, SUM(CASE WHEN credit_account = 'org:' || organisation_id THEN amount ELSE -amount END)
                    OVER (PARTITION BY organisation_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS after
                FROM transfers) r
            WHERE transfers.id = r.id;
            CREATE TRIGGER transfers_are_append_only_update BEFORE UPDATE ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are append-only: post a reversal or adjustment'); END;
            CREATE TRIGGER transfers_record_balance_after BEFORE INSERT ON transfers
            WHEN NEW.balance_after IS NULL
            BEGIN SELECT RAISE(ABORT, 'a new transfer must record the balance after it'); END;
            """)
    }
}
