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
