import GRDB

extension Schema {
    /// `cost_event_voids`: one row per voided staged event, append-only like transfers.
    static func createCostEventVoids(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE cost_event_voids (
                event_id TEXT PRIMARY KEY NOT NULL REFERENCES cost_events(event_id),
                voided_at INTEGER NOT NULL,
                actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
                reason TEXT NOT NULL CHECK (length(CAST(reason AS BLOB)) BETWEEN 1 AND 1000)
            ) STRICT;

            CREATE TRIGGER cost_event_voids_are_append_only_update BEFORE UPDATE ON cost_event_voids
            BEGIN SELECT RAISE(ABORT, 'cost event voids are append-only'); END;
            CREATE TRIGGER cost_event_voids_are_append_only_delete BEFORE DELETE ON cost_event_voids
            BEGIN SELECT RAISE(ABORT, 'cost event voids are append-only'); END;
            """)
    }
}
