import GRDB

/// Whether an alert may fire (`armed`) or has fired and waits for its condition to clear.
public enum AlertArming: String, Sendable, Hashable, Codable {
    case armed
    case fired
}

/// The stored state of one alert: an (organisation, rule, subject) triple.
public struct AlertState: Sendable, Hashable {
    public let organisationID: String
    public let rule: AlertRule
    public let subject: String
    public let arming: AlertArming
    /// The value seen at the last evaluation, as exact text (credits or days).
    public let lastValue: String
    public let changedAt: Instant

    public init(
        organisationID: String, rule: AlertRule, subject: String, arming: AlertArming, lastValue: String,
        changedAt: Instant
    ) {
        self.organisationID = organisationID
        self.rule = rule
        self.subject = subject
        self.arming = arming
        self.lastValue = lastValue
        self.changedAt = changedAt
    }
}

/// A delivery waiting in (or finished in) the alert outbox.
public struct AlertDelivery: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable {
        case pending
        case delivered
        case failed
    }

    public let id: Int64
    public let dedupeKey: String
    public let alertID: Int64
    public let organisationID: String
    public let destination: String
    /// The environment variable holding the signing secret (never the secret).
    public let secretEnv: String
    /// The exact JSON body to send; it never changes between attempts.
    public let payload: String
    public let status: Status
    public let attempts: Int
    public let nextAttemptAt: Instant
    public let lastError: String?
    public let deliveredAt: Instant?
}

/// What one delivery attempt did, for `recordDeliveryAttempt`.
public enum AlertDeliveryOutcome: Sendable, Hashable {
    case delivered
    /// Failed; try again at `retryAt`, or give up (status `failed`) when it is nil.
    case failed(error: String, retryAt: Instant?)
}

extension LedgerReader {
    /// The organisation's balance from transfers effective at or before `instant`.
    public func available(of organisationID: String, at instant: Instant) throws -> Credits {
        let account = AccountID.available(organisationID: organisationID).rawValue
        let value = try Int64.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(CASE WHEN credit_account = ? THEN amount ELSE -amount END), 0)
                FROM transfers WHERE organisation_id = ? AND effective_at <= ?
                    AND (credit_account = ? OR debit_account = ?)
                """,
            arguments: [account, organisationID, instant.millisecondsSinceEpoch, account, account]) ?? 0
        return Credits(microcredits: value)
    }

    /// Deductions from the organisation's balance effective in `(after, through]`.
    public func deductions(of organisationID: String, after: Instant, through: Instant) throws -> Credits {
        let account = AccountID.available(organisationID: organisationID).rawValue
        let value = try Int64.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(amount), 0) FROM transfers
                WHERE organisation_id = ? AND kind = 'deduction' AND debit_account = ?
                    AND effective_at > ? AND effective_at <= ?
                """,
            arguments: [organisationID, account, after.millisecondsSinceEpoch, through.millisecondsSinceEpoch]) ?? 0
        return Credits(microcredits: value)
    }

    /// Every stored alert state of the organisation, by rule then subject.
    public func alertStates(of organisationID: String) throws -> [AlertState] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM alert_states WHERE organisation_id = ? ORDER BY rule, subject",
            arguments: [organisationID]
        ).map { row in
            let arming = try AlertArming(stored: row["state"], table: "alert_states", column: "state")
            return AlertState(
                organisationID: row["organisation_id"],
                rule: try AlertRule(stored: row["rule"], table: "alert_states", column: "rule"), subject: row["subject"], arming: arming,
                lastValue: row["last_value"], changedAt: Instant(millisecondsSinceEpoch: row["changed_at"]))
        }
    }

    /// Payloads of the alerts fired for the organisation, oldest first.
    public func alertsFired(of organisationID: String) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT payload FROM alerts_fired WHERE organisation_id = ? ORDER BY id",
            arguments: [organisationID])
    }

    /// Pending deliveries whose next attempt is due at `instant`, oldest first, at most `limit`.
    public func dueAlertDeliveries(at instant: Instant, limit: Int = 1000) throws -> [AlertDelivery] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?
                """,
            arguments: [instant.millisecondsSinceEpoch, limit]
        ).map(Self.alertDelivery)
    }

    /// Outbox rows whose last attempt was signed at exactly `instant`, oldest first: what a rerun of the
    /// alerts run at that instant reports again instead of sending again (docs/ALERTS.md). Scans the
    /// outbox, which holds one row per fired alert and destination.
    public func alertDeliveriesAttempted(at instant: Instant) throws -> [AlertDelivery] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM alert_outbox WHERE signature_timestamp = ? AND attempts > 0 ORDER BY id",
            arguments: [instant.millisecondsSinceEpoch]
        ).map(Self.alertDelivery)
    }

    /// Every outbox row, oldest first (for tests and `ledger`-style inspection).
    public func alertDeliveries() throws -> [AlertDelivery] {
        try Row.fetchAll(db, sql: "SELECT * FROM alert_outbox ORDER BY id").map(Self.alertDelivery)
    }

    static func alertDelivery(_ row: Row) throws -> AlertDelivery {
        let status = try AlertDelivery.Status(stored: row["status"], table: "alert_outbox", column: "status")
        let deliveredAt: Int64? = row["delivered_at"]
        return AlertDelivery(
            id: row["id"], dedupeKey: row["dedupe_key"], alertID: row["alert_id"],
            organisationID: row["organisation_id"], destination: row["destination"], secretEnv: row["secret_env"],
            payload: row["payload"], status: status, attempts: row["attempts"],
            nextAttemptAt: Instant(millisecondsSinceEpoch: row["next_attempt_at"]), lastError: row["last_error"],
            deliveredAt: deliveredAt.map(Instant.init(millisecondsSinceEpoch:)))
    }
}

extension LedgerTransaction {
    /// Inserts or updates an alert's state; `changedAt` moves only when the arming changes.
    public func saveAlertState(
        organisationID: String, rule: AlertRule, subject: String, arming: AlertArming, lastValue: String
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO alert_states
                    (organisation_id, rule, subject, state, last_value, changed_at, evaluated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (organisation_id, rule, subject) DO UPDATE SET
                    changed_at = CASE WHEN state = excluded.state THEN changed_at ELSE excluded.changed_at END,
                    state = excluded.state, last_value = excluded.last_value, evaluated_at = excluded.evaluated_at
                """,
            arguments: [organisationID, rule.rawValue, subject, arming.rawValue, lastValue, now.millisecondsSinceEpoch,
                        now.millisecondsSinceEpoch])
    }

    /// Records a fired alert; returns its id for the outbox rows.
    public func recordAlertFired(
        organisationID: String, rule: AlertRule, subject: String, asOf: Instant, payload: String
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO alerts_fired (organisation_id, rule, subject, fired_at, as_of, payload)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [organisationID, rule.rawValue, subject, now.millisecondsSinceEpoch, asOf.millisecondsSinceEpoch,
                        payload])
        return connection.lastInsertedRowID
    }

    /// Queues one delivery, due at once. The dedupe key is unique: queuing it again is a no-op.
    public func enqueueAlertDelivery(
        dedupeKey: String, alertID: Int64, organisationID: String, destination: String, secretEnv: String,
        payload: String
    ) throws {
        precondition(!dedupeKey.isEmpty, "an outbox row needs a dedupe key")
        try db.execute(
            sql: """
                INSERT INTO alert_outbox (dedupe_key, alert_id, organisation_id, destination, secret_env, payload,
                    status, attempts, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
                ON CONFLICT (dedupe_key) DO NOTHING
                """,
            arguments: [dedupeKey, alertID, organisationID, destination, secretEnv, payload,
                        now.millisecondsSinceEpoch, now.millisecondsSinceEpoch])
    }

    /// Records one attempt of a pending delivery: counts it, and marks it delivered, scheduled
    /// for a retry, or failed for good. Returns false when the row was no longer pending.
    @discardableResult
    public func recordDeliveryAttempt(
        id: Int64, signatureTimestamp: Instant, outcome: AlertDeliveryOutcome
    ) throws -> Bool {
        let (status, error, next, delivered): (String, String?, Instant, Instant?) = switch outcome {
        case .delivered: ("delivered", nil, now, now)
        case .failed(let error, let retryAt?): ("pending", error, retryAt, nil)
        case .failed(let error, nil): ("failed", error, now, nil)
        }
        try db.execute(
            sql: """
                UPDATE alert_outbox SET attempts = attempts + 1, status = ?, last_error = ?, next_attempt_at = ?,
                    delivered_at = ?, signature_timestamp = ?
                WHERE id = ? AND status = 'pending'
                """,
            arguments: [status, error, next.millisecondsSinceEpoch, delivered?.millisecondsSinceEpoch,
                        signatureTimestamp.millisecondsSinceEpoch, id])
        return connection.changesCount == 1
    }
}
