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
}
