import GRDB

extension Schema {
    /// Alerts: the armed/fired state of each (organisation, rule, subject), every alert fired, and
    /// the outbox of webhook deliveries. A state change, the alert it fires and its outbox rows are
    /// written in one transaction, so an alert is never recorded without its deliveries or sent
    /// without being recorded.
    static func createAlerts(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE alert_states (
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                rule TEXT NOT NULL CHECK (rule IN ('low_balance', 'runway', 'unusual_consumption')),
                subject TEXT NOT NULL CHECK (length(subject) > 0),
                state TEXT NOT NULL CHECK (state IN ('armed', 'fired')),
                last_value TEXT NOT NULL,
                changed_at INTEGER NOT NULL,
                evaluated_at INTEGER NOT NULL,
                PRIMARY KEY (organisation_id, rule, subject)
            ) STRICT, WITHOUT ROWID;

            -- One row per crossing: what fired, against which threshold, and the payload sent.
            CREATE TABLE alerts_fired (
                id INTEGER PRIMARY KEY,
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                rule TEXT NOT NULL,
                subject TEXT NOT NULL,
                fired_at INTEGER NOT NULL,
                as_of INTEGER NOT NULL,
                payload TEXT NOT NULL
            ) STRICT;
            CREATE INDEX alerts_fired_by_organisation ON alerts_fired(organisation_id, fired_at);

            CREATE TABLE alert_outbox (
                id INTEGER PRIMARY KEY,
                dedupe_key TEXT NOT NULL UNIQUE,
                alert_id INTEGER NOT NULL REFERENCES alerts_fired(id),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                destination TEXT NOT NULL,
                secret_env TEXT NOT NULL,
                payload TEXT NOT NULL,
                signature_timestamp INTEGER,
                status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                next_attempt_at INTEGER NOT NULL,
                last_error TEXT,
                created_at INTEGER NOT NULL,
                delivered_at INTEGER,
                CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
            ) STRICT;
            CREATE INDEX alert_outbox_due ON alert_outbox(next_attempt_at) WHERE status = 'pending';
            """)
    }
}
