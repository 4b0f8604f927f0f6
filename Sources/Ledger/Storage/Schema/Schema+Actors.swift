import GRDB

extension Schema {
    /// Who made each transfer (`Actor`): a column every new transfer must fill.
    ///
    /// Transfers are append-only, so the column is added with a default that only the transfers already
    /// there keep: `unknown (before audit)`. SQLite stores an added column's default in the schema and
    /// rewrites no row, so this is instant on a ledger of any size. A trigger refuses that default on any
    /// new transfer, and a CHECK refuses any text no `Actor` writes, so a posting path that forgets its
    /// actor fails in the schema as well as in `insertTransfer`. The ledger digest leaves the actor out
    /// (it is who, not what): an unchanged ledger keeps its digest through this migration.
    static func recordTransferActors(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE transfers ADD COLUMN actor TEXT NOT NULL DEFAULT '\(Actor.unknownBeforeAuditText)'
                CHECK (length(actor) BETWEEN 1 AND \(Actor.storedTextBytesMax) AND (
                    actor IN ('\(Actor.unknownBeforeAuditText)', 'webhook:revolut')
                    OR actor GLOB 'key:?*' OR actor GLOB 'operator:?*' OR actor GLOB 'pipeline:?*'));
            CREATE TRIGGER transfers_name_their_actor BEFORE INSERT ON transfers
            WHEN NEW.actor = '\(Actor.unknownBeforeAuditText)'
            BEGIN SELECT RAISE(ABORT, 'a new transfer must name its actor'); END;
            """)
    }
}

extension Schema {
    /// Moves of a grant's expiry by an administrator (`moveGrantExpiry`): one append-only row per move,
    /// with who made it and why, so a grant's expiry is never changed without a trace.
    static func createGrantExpiryMoves(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE grant_expiry_moves (
                id INTEGER PRIMARY KEY,
                grant_id INTEGER NOT NULL REFERENCES grants(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                from_expires_at INTEGER,
                to_expires_at INTEGER,
                moved_at INTEGER NOT NULL,
                actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND \(Actor.storedTextBytesMax)
                    AND actor <> '\(Actor.unknownBeforeAuditText)'),
                reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
                idempotency_key TEXT NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200)
            ) STRICT;
            CREATE INDEX grant_expiry_moves_by_grant ON grant_expiry_moves(grant_id, id);
            CREATE TRIGGER grant_expiry_moves_are_append_only_update BEFORE UPDATE ON grant_expiry_moves
            BEGIN SELECT RAISE(ABORT, 'grant expiry moves are append-only'); END;
            CREATE TRIGGER grant_expiry_moves_are_append_only_delete BEFORE DELETE ON grant_expiry_moves
            BEGIN SELECT RAISE(ABORT, 'grant expiry moves are append-only'); END;
            """)
    }
}
