import Foundation
import GRDB

extension Schema {
    /// Staging: what ingest has read and validated, and what the live path created (purchases).
    /// Nothing here moves credits; reconcile turns it into a plan and apply posts the plan.
    static func createStaging(_ db: Database) throws {
        try db.execute(sql: """
            -- Files already ingested, by content hash: ingesting the same bytes again is a no-op.
            CREATE TABLE ingested_files (
                content_sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(content_sha256) = 64),
                kind TEXT NOT NULL CHECK (kind IN ('events', 'orders')),
                path TEXT NOT NULL,
                bytes INTEGER NOT NULL CHECK (bytes >= 0),
                ingested_at INTEGER NOT NULL,
                summary TEXT NOT NULL
            ) STRICT;

            -- Validated cost events. A deduction transfer with cost_event_id = event_id means charged.
            CREATE TABLE cost_events (
                event_id TEXT PRIMARY KEY NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
                content_hash TEXT NOT NULL CHECK (length(content_hash) = 64),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                team TEXT NOT NULL,
                investigation TEXT,
                operation TEXT NOT NULL,
                credits INTEGER NOT NULL CHECK (credits > 0),
                quantity TEXT,
                unit TEXT,
                rate INTEGER,
                occurred_at INTEGER NOT NULL,
                attributes TEXT,
                source_file TEXT NOT NULL,
                source_line INTEGER NOT NULL,
                staged_at INTEGER NOT NULL,
                CHECK ((quantity IS NULL) = (unit IS NULL) AND (unit IS NULL) = (rate IS NULL))
            ) STRICT;
            CREATE INDEX cost_events_by_organisation ON cost_events(organisation_id, occurred_at);

            -- Every distinct view of a Revolut order we have seen (API export, CSV report, webhook
            -- fetch), kept so reconcile sees the history of states (completed, then refunded).
            CREATE TABLE revolut_order_observations (
                id INTEGER PRIMARY KEY,
                observation_hash TEXT NOT NULL UNIQUE CHECK (length(observation_hash) = 64),
                order_id TEXT NOT NULL,
                order_type TEXT NOT NULL,
                state TEXT NOT NULL,
                amount_minor INTEGER NOT NULL,
                currency TEXT NOT NULL CHECK (length(currency) = 3),
                merchant_reference TEXT,
                organisation_id TEXT,
                package_id TEXT,
                related_order_id TEXT,
                created_at INTEGER,
                updated_at INTEGER,
                source TEXT NOT NULL,
                source_file TEXT NOT NULL,
                source_line INTEGER NOT NULL,
                observed_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX revolut_order_observations_by_order ON revolut_order_observations(order_id, updated_at, id);
            CREATE INDEX revolut_order_observations_by_reference ON revolut_order_observations(merchant_reference);

            -- Orders we created through the live path (purchaseCreditPackage): the "what we asked for"
            -- side of the three-way match.
            CREATE TABLE purchases (
                reference TEXT PRIMARY KEY NOT NULL,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                package_id TEXT NOT NULL REFERENCES credit_packages(id),
                credits INTEGER NOT NULL CHECK (credits > 0),
                price_minor INTEGER NOT NULL CHECK (price_minor > 0),
                currency TEXT NOT NULL CHECK (length(currency) = 3),
                revolut_order_id TEXT UNIQUE,
                checkout_url TEXT,
                created_at INTEGER NOT NULL
            ) STRICT;
            """)
    }

    /// Cost events in about two thirds of the bytes, staged at about a quarter less CPU.
    ///
    /// Why: ingest writes every byte of a staged event three times (the table, the write-ahead log,
    /// the checkpoint), and at 1M events half of each row was the content hash as 64 hex digits and
    /// the source file's path repeated; and every event paid for an index by organisation that no
    /// query reads (reconcile walks events by occurrence time, dedupe finds them by id).
    /// So: the content digest is a 32-byte BLOB, the source file a reference into `source_files`
    /// (one row per file name), and the index is gone. Rows keep their order (rowid) and values.
    static func compactCostEvents(_ db: Database) throws {
        db.add(function: sha256FromHex)
        defer { db.remove(function: sha256FromHex) }
        try db.execute(sql: """
            -- The names of the files (and the live API) events were staged from, each once.
            CREATE TABLE source_files (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE
            ) STRICT;
            INSERT INTO source_files (name) SELECT DISTINCT source_file FROM cost_events ORDER BY source_file;

            CREATE TABLE cost_events_compact (
                event_id TEXT PRIMARY KEY NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
                content_sha256 BLOB NOT NULL CHECK (length(content_sha256) = 32),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                team TEXT NOT NULL,
                investigation TEXT,
                operation TEXT NOT NULL,
                credits INTEGER NOT NULL CHECK (credits > 0),
                quantity TEXT,
                unit TEXT,
                rate INTEGER,
                occurred_at INTEGER NOT NULL,
                attributes TEXT,
                source_file_id INTEGER NOT NULL REFERENCES source_files(id),
                source_line INTEGER NOT NULL,
                staged_at INTEGER NOT NULL,
                CHECK ((quantity IS NULL) = (unit IS NULL) AND (unit IS NULL) = (rate IS NULL))
            ) STRICT;
            INSERT INTO cost_events_compact (rowid, event_id, content_sha256, organisation_id, team, investigation,
                operation, credits, quantity, unit, rate, occurred_at, attributes, source_file_id, source_line,
                staged_at)
            SELECT e.rowid, e.event_id, credits_sha256_from_hex(e.content_hash), e.organisation_id, e.team,
                e.investigation, e.operation, e.credits, e.quantity, e.unit, e.rate, e.occurred_at, e.attributes,
                f.id, e.source_line, e.staged_at
            FROM cost_events e JOIN source_files f ON f.name = e.source_file
            ORDER BY e.rowid;
            DROP TABLE cost_events;
            ALTER TABLE cost_events_compact RENAME TO cost_events;
            """)
    }

    /// `credits_sha256_from_hex(text)`: the 32 bytes of a 64-digit hex digest (the schema's CHECK
    /// refused anything else when it was stored).
    private static let sha256FromHex = DatabaseFunction("credits_sha256_from_hex", argumentCount: 1, pure: true) {
        values in
        guard let hex = String.fromDatabaseValue(values[0]), let digest = ContentDigest(hex: hex) else {
            throw DatabaseError(message: "a staged content hash is not 64 hex digits")
        }
        return Data(digest.bytes)
    }
}
