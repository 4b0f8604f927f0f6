import GRDB

extension Schema {
    /// `configuration_changes`: the append-only audit trail of live reservation and threshold changes.
    static func createConfigurationChanges(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE configuration_changes (
                id INTEGER PRIMARY KEY,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                changed_at INTEGER NOT NULL,
                actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
                idempotency_key TEXT UNIQUE
                    CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 200),
                subject TEXT NOT NULL CHECK (subject IN ('reservation', 'thresholds')),
                reservation_id TEXT,
                old_value TEXT,
                new_value TEXT,
                CHECK ((subject = 'reservation') = (reservation_id IS NOT NULL)),
                CHECK (subject = 'reservation' OR (old_value IS NOT NULL AND new_value IS NOT NULL))
            ) STRICT;
            CREATE INDEX configuration_changes_by_organisation ON configuration_changes(organisation_id, id);

            CREATE TRIGGER configuration_changes_are_append_only_update BEFORE UPDATE ON configuration_changes
            BEGIN SELECT RAISE(ABORT, 'configuration changes are append-only: record a new change'); END;
            CREATE TRIGGER configuration_changes_are_append_only_delete BEFORE DELETE ON configuration_changes
            BEGIN SELECT RAISE(ABORT, 'configuration changes are append-only: record a new change'); END;
            """)
    }
}
