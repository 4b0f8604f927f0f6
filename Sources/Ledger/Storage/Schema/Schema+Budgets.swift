import Foundation
import GRDB

extension Schema {
    /// Budgets (`Budget`) and the spend they are measured against.
    ///
    /// `budgets`: one row per organisation and scope, the budget's terms as JSON; replaced by
    /// `credits init` and changed live by the admin mutation (both audited in `configuration_changes`).
    ///
    /// `scope_spend_days`: charged usage per organisation, scope (the organisation, a team, an
    /// investigation) and local day of the organisation (days since 1970-01-01). Every deduction adds
    /// to its organisation's, team's and investigation's row of its day, in the transaction that
    /// charges it, whether or not a budget exists, so a budget configured later starts from the
    /// period's true use. (Since 2026-12-07 posting keeps only the scopes a budget measures, and a
    /// budget added later writes its scope's days from the ledger then: `ScopeUse`.) A period's use is
    /// the sum of at most 366 rows of one scope (primary key
    /// range), which keeps the gate's budget check a few index reads. Periods roll over by the
    /// calendar: the next period sums other days, nothing is reset.
    ///
    /// Existing ledgers are back-filled from their deductions and usage run charges. The
    /// configuration audit trail gains the subject `budget` (with `budget_key`), and alert states the
    /// rule `budget`; SQLite cannot change a CHECK in place, so both tables are copied.
    static func createBudgets(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE budgets (
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                budget_key TEXT NOT NULL CHECK (length(budget_key) BETWEEN 1 AND 200),
                terms TEXT NOT NULL,
                PRIMARY KEY (organisation_id, budget_key)
            ) STRICT;
            CREATE TABLE scope_spend_days (
                organisation_id TEXT NOT NULL,
                scope TEXT NOT NULL CHECK (scope IN ('organisation', 'team', 'investigation')),
                scope_id TEXT NOT NULL,
                day INTEGER NOT NULL,
                credits INTEGER NOT NULL CHECK (credits >= 0),
                PRIMARY KEY (organisation_id, scope, scope_id, day)
            ) STRICT, WITHOUT ROWID;

            CREATE TABLE configuration_changes_v7 (
                id INTEGER PRIMARY KEY,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                changed_at INTEGER NOT NULL,
                actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
                idempotency_key TEXT UNIQUE
                    CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 200),
                subject TEXT NOT NULL CHECK (subject IN ('reservation', 'thresholds', 'budget')),
                reservation_id TEXT,
                old_value TEXT,
                new_value TEXT,
                budget_key TEXT,
                CHECK ((subject = 'reservation') = (reservation_id IS NOT NULL)),
                CHECK ((subject = 'budget') = (budget_key IS NOT NULL)),
                CHECK (subject <> 'thresholds' OR (old_value IS NOT NULL AND new_value IS NOT NULL))
            ) STRICT;
            INSERT INTO configuration_changes_v7 (id, organisation_id, changed_at, actor, idempotency_key, subject,
                reservation_id, old_value, new_value)
            SELECT id, organisation_id, changed_at, actor, idempotency_key, subject, reservation_id, old_value, new_value
            FROM configuration_changes;
            DROP TRIGGER configuration_changes_are_append_only_update;
            DROP TRIGGER configuration_changes_are_append_only_delete;
            DROP TABLE configuration_changes;
            ALTER TABLE configuration_changes_v7 RENAME TO configuration_changes;
            CREATE INDEX configuration_changes_by_organisation ON configuration_changes(organisation_id, id);
            CREATE TRIGGER configuration_changes_are_append_only_update BEFORE UPDATE ON configuration_changes
            BEGIN SELECT RAISE(ABORT, 'configuration changes are append-only: record a new change'); END;
            CREATE TRIGGER configuration_changes_are_append_only_delete BEFORE DELETE ON configuration_changes
            BEGIN SELECT RAISE(ABORT, 'configuration changes are append-only: record a new change'); END;

            CREATE TABLE alert_states_v7 (
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                rule TEXT NOT NULL CHECK (rule IN ('low_balance', 'runway', 'unusual_consumption', 'budget')),
                subject TEXT NOT NULL CHECK (length(subject) > 0),
                state TEXT NOT NULL CHECK (state IN ('armed', 'fired')),
                last_value TEXT NOT NULL,
                changed_at INTEGER NOT NULL,
                evaluated_at INTEGER NOT NULL,
                PRIMARY KEY (organisation_id, rule, subject)
            ) STRICT, WITHOUT ROWID;
            INSERT INTO alert_states_v7 SELECT * FROM alert_states;
            DROP TABLE alert_states;
            ALTER TABLE alert_states_v7 RENAME TO alert_states;
            """)
        try backfillScopeSpendDays(db)
    }

    /// Sums every deduction already charged into `scope_spend_days`, by the organisation's local day.
    private static func backfillScopeSpendDays(_ db: Database) throws {
        let zones = try Row.fetchAll(db, sql: "SELECT id, time_zone FROM organisations")
        for zoneRow in zones {
            let organisationID: String = zoneRow[0]
            guard let zone = TimeZone(identifier: zoneRow[1]) else {
                preconditionFailure("organisation \(organisationID) has a time zone configuration should have refused")
            }
            var days = ScopeSpendDays()
            try ScopeUse.sum(organisationID, in: zone, into: &days, on: db) { _ in true }
            try days.write(db)
        }
    }
}
