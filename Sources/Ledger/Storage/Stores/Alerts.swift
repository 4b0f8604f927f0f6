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
        try AlertQueries.available(of: organisationID, at: instant, on: sql)
    }

    /// Deductions from the organisation's balance effective in `(after, through]`.
    public func deductions(of organisationID: String, after: Instant, through: Instant) throws -> Credits {
        try AlertQueries.deductions(of: organisationID, after: after, through: through, on: sql)
    }

    /// Every stored alert state of the organisation, by rule then subject.
    public func alertStates(of organisationID: String) throws -> [AlertState] {
        try AlertQueries.alertStates(of: organisationID, on: sql)
    }

    /// Payloads of the alerts fired for the organisation, oldest first.
    public func alertsFired(of organisationID: String) throws -> [String] {
        try AlertQueries.alertsFired(of: organisationID, on: sql)
    }

    /// Pending deliveries whose next attempt is due at `instant`, oldest first, at most `limit`.
    public func dueAlertDeliveries(at instant: Instant, limit: Int = 1000) throws -> [AlertDelivery] {
        try AlertQueries.dueAlertDeliveries(at: instant, limit: limit, on: sql)
    }

    /// Outbox rows whose last attempt was signed at exactly `instant`, oldest first: what a rerun of the
    /// alerts run at that instant reports again instead of sending again (docs/ALERTS.md).
    public func alertDeliveriesAttempted(at instant: Instant) throws -> [AlertDelivery] {
        try AlertQueries.alertDeliveriesAttempted(at: instant, on: sql)
    }

    /// Every outbox row, oldest first (for tests and `ledger`-style inspection).
    public func alertDeliveries() throws -> [AlertDelivery] {
        try AlertQueries.alertDeliveries(on: sql)
    }
}

/// Where an alerts run records what it found: the alert states, the alerts fired and the outbox, in
/// one write transaction of either store (`AlertBook`, the same SQL on both: `AlertQueries`).
public protocol LedgerAlerting {
    /// The ledger as this transaction sees it.
    var reads: any LedgerReads { get }
    /// Inserts or updates an alert's state; `changedAt` moves only when the arming changes.
    func saveAlertState(
        organisationID: String, rule: AlertRule, subject: String, arming: AlertArming, lastValue: String) throws
    /// Records a fired alert; returns its id for the outbox rows.
    func recordAlertFired(
        organisationID: String, rule: AlertRule, subject: String, asOf: Instant, payload: String) throws -> Int64
    /// Queues one delivery, due at once. The dedupe key is unique: queuing it again is a no-op.
    func enqueueAlertDelivery(
        dedupeKey: String, alertID: Int64, organisationID: String, destination: String, secretEnv: String,
        payload: String) throws
    /// Records one attempt of a pending delivery: counts it, and marks it delivered, scheduled for a
    /// retry, or failed for good. Returns false when the row was no longer pending.
    @discardableResult
    func recordDeliveryAttempt(id: Int64, signatureTimestamp: Instant, outcome: AlertDeliveryOutcome) throws -> Bool
}

/// A ledger an alerts run works on, on either store: `LedgerDatabase` (SQLite) or `PostgresStore`. The run
/// evaluates in one write transaction, then records each delivery attempt in one of its own.
public protocol AlertingStore {
    /// Runs `body` in one write transaction: committed if it returns and `rollingBack` is false; rolled back
    /// (nothing it wrote stays) if it throws or `rollingBack` is true, as a dry run wants.
    func alerting<T>(rollingBack: Bool, _ body: (any LedgerAlerting) throws -> T) throws -> T
    /// Runs `body` on one consistent read of the ledger.
    func reading<T>(_ body: (any LedgerReads) throws -> T) throws -> T
}

extension LedgerDatabase: AlertingStore {
    public func alerting<T>(rollingBack: Bool, _ body: (any LedgerAlerting) throws -> T) throws -> T {
        try write(as: .pipeline(.alerts)) { tx in
            if rollingBack { return try tx.dryRun { try body(AlertBook(in: $0)) } }
            return try body(AlertBook(in: tx))
        }
    }

    public func reading<T>(_ body: (any LedgerReads) throws -> T) throws -> T {
        try read { try body($0) }
    }
}

extension PostgresStore: AlertingStore {
    /// A `REPEATABLE READ` transaction, so the whole evaluation sees one state of the ledger; runs are
    /// serialised by the `alerts` stage lock, so no two write the same alert rows at once.
    public func alerting<T>(rollingBack: Bool, _ body: (any LedgerAlerting) throws -> T) throws -> T {
        let now = clock()
        return try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ", commit: !rollingBack) {
            try body(AlertBook(sql: $0, now: now, reads: PostgresReader(sql: $0)))
        }
    }

    public func reading<T>(_ body: (any LedgerReads) throws -> T) throws -> T {
        try read(body)
    }
}

/// `LedgerAlerting` in one write transaction of either store: a SQLite connection inside a `LedgerTransaction`
/// (alerts post nothing, so nothing is deferred), or a PostgreSQL session inside `PostgresStore.alerting`.
struct AlertBook<Session: SQLSession>: LedgerAlerting {
    let sql: Session
    let now: Instant
    let reads: any LedgerReads

    func saveAlertState(
        organisationID: String, rule: AlertRule, subject: String, arming: AlertArming, lastValue: String
    ) throws {
        try AlertQueries.saveAlertState(
            organisationID: organisationID, rule: rule, subject: subject, arming: arming, lastValue: lastValue,
            now: now, on: sql)
    }

    func recordAlertFired(
        organisationID: String, rule: AlertRule, subject: String, asOf: Instant, payload: String
    ) throws -> Int64 {
        try AlertQueries.recordAlertFired(
            organisationID: organisationID, rule: rule, subject: subject, asOf: asOf, payload: payload, now: now,
            on: sql)
    }

    func enqueueAlertDelivery(
        dedupeKey: String, alertID: Int64, organisationID: String, destination: String, secretEnv: String,
        payload: String
    ) throws {
        try AlertQueries.enqueueAlertDelivery(
            dedupeKey: dedupeKey, alertID: alertID, organisationID: organisationID, destination: destination,
            secretEnv: secretEnv, payload: payload, now: now, on: sql)
    }

    @discardableResult
    func recordDeliveryAttempt(id: Int64, signatureTimestamp: Instant, outcome: AlertDeliveryOutcome) throws -> Bool {
        try AlertQueries.recordDeliveryAttempt(
            id: id, signatureTimestamp: signatureTimestamp, outcome: outcome, now: now, on: sql)
    }
}

extension AlertBook where Session == Database {
    /// The book of a SQLite write transaction (or of its dry run).
    init(in tx: LedgerTransaction) throws {
        self.init(sql: try tx.db, now: tx.now, reads: tx.reader)
    }
}

/// The alert runs' reads and writes, in portable SQL (either store).
enum AlertQueries {
    /// See `LedgerReader.available(of:at:)`.
    static func available(of organisationID: String, at instant: Instant, on sql: some SQLSession) throws -> Credits {
        let account = AccountID.available(organisationID: organisationID).rawValue
        return Credits(microcredits: try sql.integer(
            """
            SELECT CAST(COALESCE(SUM(CASE WHEN credit_account = ? THEN amount ELSE -amount END), 0) AS BIGINT)
            FROM transfers WHERE organisation_id = ? AND effective_at <= ?
                AND (credit_account = ? OR debit_account = ?)
            """,
            [.text(account), .text(organisationID), .integer(instant.millisecondsSinceEpoch), .text(account),
             .text(account)]) ?? 0)
    }

    /// See `LedgerReader.deductions(of:after:through:)`.
    static func deductions(
        of organisationID: String, after: Instant, through: Instant, on sql: some SQLSession
    ) throws -> Credits {
        let account = AccountID.available(organisationID: organisationID).rawValue
        return Credits(microcredits: try sql.integer(
            """
            SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfers
            WHERE organisation_id = ? AND kind = 'deduction' AND debit_account = ?
                AND effective_at > ? AND effective_at <= ?
            """,
            [.text(organisationID), .text(account), .integer(after.millisecondsSinceEpoch),
             .integer(through.millisecondsSinceEpoch)]) ?? 0)
    }

    /// See `LedgerReader.alertStates(of:)`.
    static func alertStates(of organisationID: String, on sql: some SQLSession) throws -> [AlertState] {
        try sql.records(
            """
            SELECT organisation_id, rule, subject, state, last_value, changed_at FROM alert_states
            WHERE organisation_id = ? ORDER BY rule COLLATE BINARY, subject COLLATE BINARY
            """,
            [.text(organisationID)]
        ).map { row in
            AlertState(
                organisationID: row.text(0), rule: try AlertRule(stored: row.text(1), table: "alert_states", column: "rule"),
                subject: row.text(2), arming: try AlertArming(stored: row.text(3), table: "alert_states", column: "state"),
                lastValue: row.text(4), changedAt: Instant(millisecondsSinceEpoch: row.int64(5)))
        }
    }

    /// See `LedgerReader.alertsFired(of:)`.
    static func alertsFired(of organisationID: String, on sql: some SQLSession) throws -> [String] {
        try sql.strings("SELECT payload FROM alerts_fired WHERE organisation_id = ? ORDER BY id", [.text(organisationID)])
    }

    /// See `LedgerReader.dueAlertDeliveries(at:limit:)`.
    static func dueAlertDeliveries(at instant: Instant, limit: Int, on sql: some SQLSession) throws -> [AlertDelivery] {
        try sql.records(
            "\(deliverySelect) WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            [.integer(instant.millisecondsSinceEpoch), SQLValue(limit)]
        ).map(delivery)
    }

    /// See `LedgerReader.alertDeliveriesAttempted(at:)`. Scans the outbox, which holds one row per fired
    /// alert and destination.
    static func alertDeliveriesAttempted(at instant: Instant, on sql: some SQLSession) throws -> [AlertDelivery] {
        try sql.records(
            "\(deliverySelect) WHERE signature_timestamp = ? AND attempts > 0 ORDER BY id",
            [.integer(instant.millisecondsSinceEpoch)]
        ).map(delivery)
    }

    /// See `LedgerReader.alertDeliveries()`.
    static func alertDeliveries(on sql: some SQLSession) throws -> [AlertDelivery] {
        try sql.records("\(deliverySelect) ORDER BY id", []).map(delivery)
    }

    /// See `LedgerAlerting.saveAlertState`.
    static func saveAlertState(
        organisationID: String, rule: AlertRule, subject: String, arming: AlertArming, lastValue: String,
        now: Instant, on sql: some SQLSession
    ) throws {
        try sql.execute(
            """
            INSERT INTO alert_states (organisation_id, rule, subject, state, last_value, changed_at, evaluated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (organisation_id, rule, subject) DO UPDATE SET
                changed_at = CASE WHEN alert_states.state = excluded.state THEN alert_states.changed_at
                                  ELSE excluded.changed_at END,
                state = excluded.state, last_value = excluded.last_value, evaluated_at = excluded.evaluated_at
            """,
            [.text(organisationID), .text(rule.rawValue), .text(subject), .text(arming.rawValue), .text(lastValue),
             .integer(now.millisecondsSinceEpoch), .integer(now.millisecondsSinceEpoch)])
    }

    /// See `LedgerAlerting.recordAlertFired`.
    static func recordAlertFired(
        organisationID: String, rule: AlertRule, subject: String, asOf: Instant, payload: String, now: Instant,
        on sql: some SQLSession
    ) throws -> Int64 {
        guard let id = try sql.integer(
            """
            INSERT INTO alerts_fired (organisation_id, rule, subject, fired_at, as_of, payload)
            VALUES (?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [.text(organisationID), .text(rule.rawValue), .text(subject), .integer(now.millisecondsSinceEpoch),
             .integer(asOf.millisecondsSinceEpoch), .text(payload)])
        else { preconditionFailure("an insert returning its id answers one row") }
        return id
    }

    /// See `LedgerAlerting.enqueueAlertDelivery`.
    static func enqueueAlertDelivery(
        dedupeKey: String, alertID: Int64, organisationID: String, destination: String, secretEnv: String,
        payload: String, now: Instant, on sql: some SQLSession
    ) throws {
        precondition(!dedupeKey.isEmpty, "an outbox row needs a dedupe key")
        try sql.execute(
            """
            INSERT INTO alert_outbox (dedupe_key, alert_id, organisation_id, destination, secret_env, payload,
                status, attempts, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
            ON CONFLICT (dedupe_key) DO NOTHING
            """,
            [.text(dedupeKey), .integer(alertID), .text(organisationID), .text(destination), .text(secretEnv),
             .text(payload), .integer(now.millisecondsSinceEpoch), .integer(now.millisecondsSinceEpoch)])
    }

    /// See `LedgerAlerting.recordDeliveryAttempt`.
    static func recordDeliveryAttempt(
        id: Int64, signatureTimestamp: Instant, outcome: AlertDeliveryOutcome, now: Instant, on sql: some SQLSession
    ) throws -> Bool {
        let (status, error, next, delivered): (String, String?, Instant, Instant?) = switch outcome {
        case .delivered: ("delivered", nil, now, now)
        case .failed(let error, let retryAt?): ("pending", error, retryAt, nil)
        case .failed(let error, nil): ("failed", error, now, nil)
        }
        return try sql.integer(
            """
            UPDATE alert_outbox SET attempts = attempts + 1, status = ?, last_error = ?, next_attempt_at = ?,
                delivered_at = ?, signature_timestamp = ?
            WHERE id = ? AND status = 'pending' RETURNING id
            """,
            [.text(status), SQLValue(error), .integer(next.millisecondsSinceEpoch),
             SQLValue(delivered?.millisecondsSinceEpoch), .integer(signatureTimestamp.millisecondsSinceEpoch),
             .integer(id)]) != nil
    }

    private static let deliverySelect = """
        SELECT id, dedupe_key, alert_id, organisation_id, destination, secret_env, payload, status, attempts,
               next_attempt_at, last_error, delivered_at
        FROM alert_outbox
        """

    private static func delivery(_ row: SQLRecord) throws -> AlertDelivery {
        AlertDelivery(
            id: row.int64(0), dedupeKey: row.text(1), alertID: row.int64(2), organisationID: row.text(3),
            destination: row.text(4), secretEnv: row.text(5), payload: row.text(6),
            status: try AlertDelivery.Status(stored: row.text(7), table: "alert_outbox", column: "status"),
            attempts: Int(row.int64(8)), nextAttemptAt: Instant(millisecondsSinceEpoch: row.int64(9)),
            lastError: row.textOrNil(10), deliveredAt: row.int64OrNil(11).map(Instant.init(millisecondsSinceEpoch:)))
    }
}
