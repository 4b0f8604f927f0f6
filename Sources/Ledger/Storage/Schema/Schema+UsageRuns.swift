import GRDB

extension Schema {
    /// Batch usage charged as runs: one deduction transfer for many cost events (`UsageRun`), and one
    /// `usage_charges` row per event it charged, naming the transfer and the event's share, with the
    /// event's time and attribution (team, investigation, operation) as it was charged, so reports read
    /// a run's rows in one range of the table (clustered by run) without looking each event up.
    ///
    /// Why: apply used to write a transfer, its draws and their index entries for every cost event,
    /// which made transfers most of the database and of apply, report and verify time. A run is one
    /// transfer and one draw per grant it burned; each event costs one narrow row here.
    ///
    /// Exactly once, by the schema: `event_id` is unique (an event is in at most one run), and the
    /// triggers refuse a run charge for an event a per-event deduction (the live path, and every
    /// deduction posted before this migration) already charged, and the reverse. The rows are
    /// append-only like transfers. Ledgers from before keep their per-event deductions as posted:
    /// this table starts empty, so their digest does not change.
    static func createUsageCharges(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE usage_charges (
                transfer_id INTEGER NOT NULL REFERENCES transfers(id),
                event_id TEXT NOT NULL REFERENCES cost_events(event_id),
                occurred_at INTEGER NOT NULL,
                team TEXT NOT NULL,
                investigation TEXT,
                operation TEXT NOT NULL,
                credits INTEGER NOT NULL CHECK (credits > 0),
                cost_minor INTEGER NOT NULL CHECK (cost_minor >= 0),
                PRIMARY KEY (transfer_id, event_id)
            ) STRICT, WITHOUT ROWID;
            CREATE UNIQUE INDEX usage_charges_one_per_event ON usage_charges(event_id);

            CREATE TRIGGER usage_charges_are_append_only_update BEFORE UPDATE ON usage_charges
            BEGIN SELECT RAISE(ABORT, 'usage charges are append-only'); END;
            CREATE TRIGGER usage_charges_are_append_only_delete BEFORE DELETE ON usage_charges
            BEGIN SELECT RAISE(ABORT, 'usage charges are append-only'); END;
            CREATE TRIGGER usage_charges_once_per_event BEFORE INSERT ON usage_charges
            WHEN EXISTS (SELECT 1 FROM transfers WHERE kind = 'deduction' AND cost_event_id = NEW.event_id)
            BEGIN SELECT RAISE(ABORT, 'the cost event is already charged by a deduction of its own'); END;
            CREATE TRIGGER deductions_once_per_event BEFORE INSERT ON transfers
            WHEN NEW.kind = 'deduction' AND NEW.cost_event_id IS NOT NULL
                AND EXISTS (SELECT 1 FROM usage_charges WHERE event_id = NEW.cost_event_id)
            BEGIN SELECT RAISE(ABORT, 'the cost event is already charged by a usage run'); END;
            """)
    }
}
