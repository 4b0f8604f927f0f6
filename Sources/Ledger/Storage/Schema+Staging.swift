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

    /// No query reads cost events by organisation (reconcile walks them by occurrence time,
    /// dedupe finds them by id), yet every staged event paid for this index: about a fifth of
    /// ingest's CPU time at 1M events, its entries landing all over the tree.
    static func dropCostEventsByOrganisation(_ db: Database) throws {
        try db.execute(sql: "DROP INDEX cost_events_by_organisation")
    }
}
