import GRDB

extension Schema {
    /// Reconcile plans: what `credits reconcile` proposes and `credits apply` posts.
    static func createReconcile(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE reconcile_plans (
                id INTEGER PRIMARY KEY,
                as_of INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                ledger_position INTEGER NOT NULL,
                digest TEXT NOT NULL CHECK (length(digest) = 64),
                status TEXT NOT NULL CHECK (status IN ('planned', 'applied', 'superseded')),
                applied_at INTEGER,
                summary TEXT NOT NULL
            ) STRICT;

            CREATE TABLE reconcile_plan_items (
                plan_id INTEGER NOT NULL REFERENCES reconcile_plans(id),
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                organisation_id TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (plan_id, seq)
            ) STRICT, WITHOUT ROWID;

            CREATE TABLE reconcile_findings (
                plan_id INTEGER NOT NULL REFERENCES reconcile_plans(id),
                seq INTEGER NOT NULL,
                severity TEXT NOT NULL CHECK (severity IN ('exception', 'aged', 'matched', 'info')),
                code TEXT NOT NULL,
                organisation_id TEXT,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL,
                PRIMARY KEY (plan_id, seq)
            ) STRICT, WITHOUT ROWID;
            """)
    }

    /// Plans stop storing their items: apply plans again inside its own transaction and compares
    /// digests, so a plan keeps only what finance reviews (totals per organisation and kind, the
    /// findings, the digest) and a seal over those rows. Plans made before this migration have no
    /// seal: apply refuses them as stale (run reconcile again) and reconcile replaces them. Their
    /// items (hundreds of megabytes on a large ledger) are dropped; transfers, grants and draws are
    /// untouched, so the ledger digest does not change.
    static func compactPlans(_ db: Database) throws {
        try db.execute(sql: """
            DROP TABLE reconcile_plan_items;

            ALTER TABLE reconcile_plans ADD COLUMN aged_after_days INTEGER CHECK (aged_after_days >= 0);
            ALTER TABLE reconcile_plans ADD COLUMN seal TEXT CHECK (length(seal) = 64);

            CREATE TABLE reconcile_plan_totals (
                plan_id INTEGER NOT NULL REFERENCES reconcile_plans(id),
                organisation_id TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('allocation', 'top_up', 'deduction', 'reversal', 'expiry')),
                transfers INTEGER NOT NULL CHECK (transfers > 0),
                credits INTEGER NOT NULL CHECK (credits > 0),
                PRIMARY KEY (plan_id, organisation_id, kind)
            ) STRICT, WITHOUT ROWID;
            """)
    }
}

extension Schema {
    /// What a plan was made from (`LedgerReader.planInputs()`), so an unchanged rerun returns it without
    /// planning again. Plans made before have none and are planned again once.
    static func recordPlanInputs(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE reconcile_plans ADD COLUMN inputs TEXT CHECK (length(inputs) = 64)")
    }
}
