import GRDB

/// The database schema, as an ordered list of forward-only migrations. A migration is never
/// edited once it has shipped; a change is a new migration appended to `migrator`.
///
/// The schema is the first line of defence ("trust SQLite more than yourself"): NOT NULL,
/// CHECK, UNIQUE and foreign keys say what must hold no matter what the Swift code does, and
/// triggers make transfers and grant draws append-only.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-configuration", migrate: createConfiguration)
        migrator.registerMigration("v1-ledger", migrate: createLedger)
        migrator.registerMigration("v1-staging", migrate: createStaging)
        migrator.registerMigration("v1-reconcile", migrate: createReconcile)
        migrator.registerMigration("v1-alerts", migrate: createAlerts)
        migrator.registerMigration("v1-invoices", migrate: createInvoices)
        migrator.registerMigration("v1-api-keys", migrate: createAPIKeys)
        migrator.registerMigration("v1-configuration-changes", migrate: createConfigurationChanges)
        migrator.registerMigration("v2-compact-cost-events", migrate: compactCostEvents)
        migrator.registerMigration("v2-operations", migrate: createOperations)
        migrator.registerMigration("v3-cost-event-voids", migrate: createCostEventVoids)
        migrator.registerMigration("v3-ingest-rejections", migrate: createIngestRejections)
        migrator.registerMigration("v3-compact-plans", migrate: compactPlans)
        migrator.registerMigration("v4-transfer-actors", migrate: recordTransferActors)
        migrator.registerMigration("v4-balance-after", migrate: recordBalancesAfter)
        migrator.registerMigration("v4-grant-expiry-moves", migrate: createGrantExpiryMoves)
        migrator.registerMigration("v4-plan-inputs", migrate: recordPlanInputs)
        migrator.registerMigration("v5-usage-charges", migrate: createUsageCharges)
        migrator.registerMigration("v6-holds", migrate: createHolds)
        migrator.registerMigration("v7-budgets", migrate: createBudgets)
        migrator.registerMigration("v8-cost-events-by-occurrence", migrate: indexCostEventsByOccurrence)
        return migrator
    }

    private static func createConfiguration(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE meta (
                key TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL
            ) STRICT;

            CREATE TABLE issuer (
                id TEXT PRIMARY KEY NOT NULL,
                settings TEXT NOT NULL
            ) STRICT;

            CREATE TABLE plans (
                id TEXT PRIMARY KEY NOT NULL,
                period TEXT NOT NULL CHECK (period IN ('month', 'financial_year')),
                credits_per_period INTEGER NOT NULL CHECK (credits_per_period > 0),
                settings TEXT NOT NULL
            ) STRICT;

            CREATE TABLE credit_packages (
                id TEXT PRIMARY KEY NOT NULL,
                credits INTEGER NOT NULL CHECK (credits > 0),
                settings TEXT NOT NULL
            ) STRICT;

            CREATE TABLE organisations (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                currency TEXT NOT NULL CHECK (length(currency) = 3),
                time_zone TEXT NOT NULL,
                plan_id TEXT REFERENCES plans(id),
                overdraft_limit INTEGER NOT NULL CHECK (overdraft_limit >= 0),
                settings TEXT NOT NULL
            ) STRICT;

            CREATE TABLE teams (
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                id TEXT NOT NULL,
                name TEXT NOT NULL,
                PRIMARY KEY (organisation_id, id)
            ) STRICT, WITHOUT ROWID;

            CREATE TABLE investigations (
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                id TEXT NOT NULL,
                name TEXT NOT NULL,
                team_id TEXT NOT NULL,
                priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
                status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                PRIMARY KEY (organisation_id, id),
                FOREIGN KEY (organisation_id, team_id) REFERENCES teams(organisation_id, id)
            ) STRICT, WITHOUT ROWID;

            CREATE TABLE reservations (
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                id TEXT NOT NULL,
                credits INTEGER NOT NULL CHECK (credits > 0),
                max_priority INTEGER NOT NULL CHECK (max_priority BETWEEN 1 AND 4),
                PRIMARY KEY (organisation_id, id)
            ) STRICT, WITHOUT ROWID;

            -- organisation_id '' is the default rate card; an organisation's own entry overrides it.
            CREATE TABLE rate_cards (
                organisation_id TEXT NOT NULL,
                operation TEXT NOT NULL,
                unit TEXT NOT NULL,
                credits_per_unit INTEGER NOT NULL CHECK (credits_per_unit > 0),
                PRIMARY KEY (organisation_id, operation, unit)
            ) STRICT, WITHOUT ROWID;
            """)
    }

    private static func createLedger(_ db: Database) throws {
        try db.execute(sql: """
            -- A balance is credits_posted - debits_posted, both stored so neither side can go negative.
            CREATE TABLE accounts (
                id TEXT PRIMARY KEY NOT NULL,
                organisation_id TEXT REFERENCES organisations(id),
                kind TEXT NOT NULL CHECK (kind IN ('available', 'issuance', 'consumption', 'expiry', 'adjustment')),
                debits_posted INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
                credits_posted INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
                CHECK ((kind = 'available') = (organisation_id IS NOT NULL))
            ) STRICT;

            CREATE TABLE transfers (
                id INTEGER PRIMARY KEY,
                idempotency_key TEXT NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
                content_hash TEXT NOT NULL CHECK (length(content_hash) = 64),
                kind TEXT NOT NULL
                    CHECK (kind IN ('allocation', 'top_up', 'deduction', 'expiry', 'reversal', 'adjustment')),
                debit_account TEXT NOT NULL REFERENCES accounts(id),
                credit_account TEXT NOT NULL REFERENCES accounts(id),
                amount INTEGER NOT NULL CHECK (amount > 0),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                money_minor INTEGER NOT NULL CHECK (money_minor >= 0),
                currency TEXT NOT NULL CHECK (length(currency) = 3),
                effective_at INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                cost_event_id TEXT,
                revolut_order_id TEXT,
                plan_period TEXT,
                team TEXT,
                investigation TEXT,
                operation TEXT,
                memo TEXT,
                CHECK (debit_account <> credit_account)
            ) STRICT;
            CREATE INDEX transfers_by_organisation ON transfers(organisation_id, effective_at);
            -- Exactly once, enforced by the schema as well as by idempotency keys:
            CREATE UNIQUE INDEX transfers_one_deduction_per_cost_event
                ON transfers(cost_event_id) WHERE kind = 'deduction';
            CREATE UNIQUE INDEX transfers_one_top_up_per_order
                ON transfers(revolut_order_id) WHERE kind = 'top_up';
            CREATE UNIQUE INDEX transfers_one_allocation_per_period
                ON transfers(organisation_id, plan_period) WHERE kind = 'allocation' AND plan_period IS NOT NULL;

            CREATE TABLE grants (
                id INTEGER PRIMARY KEY,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                source TEXT NOT NULL CHECK (source IN ('allocation', 'top_up', 'adjustment')),
                transfer_id INTEGER NOT NULL UNIQUE REFERENCES transfers(id),
                credits INTEGER NOT NULL CHECK (credits > 0),
                remaining INTEGER NOT NULL CHECK (remaining BETWEEN 0 AND credits),
                priority INTEGER NOT NULL,
                expires_at INTEGER,
                granted_at INTEGER NOT NULL,
                cost_minor INTEGER NOT NULL CHECK (cost_minor >= 0),
                currency TEXT NOT NULL CHECK (length(currency) = 3)
            ) STRICT;
            CREATE INDEX grants_burn_down ON grants(organisation_id, priority, expires_at, granted_at)
                WHERE remaining > 0;

            -- The legs of outflows. grant_id NULL is credit drawn beyond every grant (overdraft);
            -- when a later grant settles it, a negative NULL row and a positive row for that grant
            -- are appended, so each transfer's draws always sum to its amount.
            CREATE TABLE grant_draws (
                id INTEGER PRIMARY KEY,
                transfer_id INTEGER NOT NULL REFERENCES transfers(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                grant_id INTEGER REFERENCES grants(id),
                credits INTEGER NOT NULL CHECK (credits <> 0),
                cost_minor INTEGER NOT NULL CHECK (cost_minor >= 0),
                CHECK (grant_id IS NULL OR credits > 0)
            ) STRICT;
            CREATE INDEX grant_draws_by_transfer ON grant_draws(transfer_id);
            CREATE INDEX grant_draws_by_grant ON grant_draws(grant_id);
            CREATE INDEX grant_draws_uncovered ON grant_draws(organisation_id, transfer_id) WHERE grant_id IS NULL;

            CREATE TRIGGER transfers_are_append_only_update BEFORE UPDATE ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are append-only: post a reversal or adjustment'); END;
            CREATE TRIGGER transfers_are_append_only_delete BEFORE DELETE ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are append-only: post a reversal or adjustment'); END;
            CREATE TRIGGER grant_draws_are_append_only_update BEFORE UPDATE ON grant_draws
            BEGIN SELECT RAISE(ABORT, 'grant draws are append-only'); END;
            CREATE TRIGGER grant_draws_are_append_only_delete BEFORE DELETE ON grant_draws
            BEGIN SELECT RAISE(ABORT, 'grant draws are append-only'); END;

            INSERT INTO accounts (id, organisation_id, kind) VALUES
                ('system:issuance', NULL, 'issuance'),
                ('system:consumption', NULL, 'consumption'),
                ('system:expiry', NULL, 'expiry'),
                ('system:adjustment', NULL, 'adjustment');
            """)
    }

    /// The operations cost events may name (`operations.yaml`). Empty when none are configured,
    /// which accepts any operation (a configured list is never empty).
    private static func createOperations(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE operations (
                id TEXT PRIMARY KEY NOT NULL
            ) STRICT, WITHOUT ROWID;
            """)
    }
}
