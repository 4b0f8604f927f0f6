import GRDB

/// A reconcile plan as stored: its items (opaque payloads written by Reconcile, read one at a
/// time with `forEachPlanItem`, since a nightly plan can hold a million), the findings for
/// people, and the digest that makes an altered plan detectable.
public struct StoredPlan: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case planned
        case applied
        case superseded
    }

    public let id: Int64
    public let asOf: Instant
    public let createdAt: Instant
    /// The highest transfer id when the plan was made.
    public let ledgerPosition: Int64
    public let digest: String
    public let status: Status
    public let summary: String
    public let itemCount: Int
    public let findings: [StoredFinding]
}

public struct StoredPlanItem: Sendable, Hashable {
    public let seq: Int
    public let kind: String
    public let organisationID: String
    public let idempotencyKey: String
    public let payload: String

    public init(seq: Int, kind: String, organisationID: String, idempotencyKey: String, payload: String) {
        self.seq = seq
        self.kind = kind
        self.organisationID = organisationID
        self.idempotencyKey = idempotencyKey
        self.payload = payload
    }
}

public struct StoredFinding: Sendable, Hashable, Codable {
    public let seq: Int
    /// `exception` (needs a person), `aged` (waiting too long), `matched`, `info`.
    public let severity: String
    public let code: String
    public let organisationID: String?
    public let subject: String
    public let detail: String

    public init(seq: Int, severity: String, code: String, organisationID: String?, subject: String, detail: String) {
        self.seq = seq
        self.severity = severity
        self.code = code
        self.organisationID = organisationID
        self.subject = subject
        self.detail = detail
    }
}

/// A staged cost event not yet charged: what reconcile needs to plan its deduction.
public struct UnchargedEvent: Sendable, Hashable {
    public let eventID: String
    public let organisationID: String
    public let team: String
    public let investigation: String?
    public let operation: String
    public let credits: Credits
    public let occurredAt: Instant
    public let sourceFile: String
    public let sourceLine: Int
}

extension LedgerTransaction {
    /// Stores a new plan (its items follow with `addPlanItem`) and supersedes any earlier plan
    /// not yet applied. Returns its id.
    public func savePlan(
        asOf: Instant, ledgerPosition: Int64, digest: String, summary: String, findings: [StoredFinding]
    ) throws -> Int64 {
        try db.execute(sql: "UPDATE reconcile_plans SET status = 'superseded' WHERE status = 'planned'")
        try db.execute(
            sql: """
                INSERT INTO reconcile_plans (as_of, created_at, ledger_position, digest, status, summary)
                VALUES (?, ?, ?, ?, 'planned', ?)
                """,
            arguments: [asOf.millisecondsSinceEpoch, now.millisecondsSinceEpoch, ledgerPosition, digest, summary])
        let planID = connection.lastInsertedRowID
        let insertFinding = try db.cachedStatement(sql: """
            INSERT INTO reconcile_findings (plan_id, seq, severity, code, organisation_id, subject, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for finding in findings {
            try insertFinding.execute(arguments: [
                planID, finding.seq, finding.severity, finding.code, finding.organisationID, finding.subject, finding.detail,
            ])
        }
        return planID
    }

    /// Appends one item to a plan stored by `savePlan` in this transaction.
    public func addPlanItem(_ item: StoredPlanItem, toPlan planID: Int64) throws {
        try db.executeCached(sql: """
            INSERT INTO reconcile_plan_items (plan_id, seq, kind, organisation_id, idempotency_key, payload)
            VALUES (?, ?, ?, ?, ?, ?)
            """
        ) { row in
            row.add(planID)
            row.add(Int64(item.seq))
            row.add(item.kind)
            row.add(item.organisationID)
            row.add(item.idempotencyKey)
            row.add(item.payload)
        }
    }

    public func markApplied(planID: Int64) throws {
        try db.execute(
            sql: "UPDATE reconcile_plans SET status = 'applied', applied_at = ? WHERE id = ? AND status = 'planned'",
            arguments: [now.millisecondsSinceEpoch, planID])
        precondition(connection.changesCount == 1, "only a planned plan can be applied")
    }
}

extension LedgerReader {
    /// The as-of instant of the newest applied plan: everything effective before it was in scope
    /// of a plan that was posted.
    public func lastAppliedPlanAsOf() throws -> Instant? {
        try Int64.fetchOne(db, sql: "SELECT MAX(as_of) FROM reconcile_plans WHERE status = 'applied'")
            .map(Instant.init(millisecondsSinceEpoch:))
    }

    /// The newest plan, whatever its status.
    public func latestPlan() throws -> StoredPlan? {
        guard let id = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM reconcile_plans") else { return nil }
        return try plan(id: id)
    }

    public func plan(id: Int64) throws -> StoredPlan? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM reconcile_plans WHERE id = ?", arguments: [id]) else {
            return nil
        }
        let itemCount = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM reconcile_plan_items WHERE plan_id = ?", arguments: [id]) ?? 0
        let findings = try Row.fetchAll(
            db, sql: "SELECT * FROM reconcile_findings WHERE plan_id = ? ORDER BY seq", arguments: [id]
        ).map { finding in
            StoredFinding(
                seq: finding["seq"], severity: finding["severity"], code: finding["code"],
                organisationID: finding["organisation_id"], subject: finding["subject"], detail: finding["detail"])
        }
        guard let status = StoredPlan.Status(rawValue: row["status"]) else {
            preconditionFailure("plan \(id) has a status the schema should refuse")
        }
        return StoredPlan(
            id: id, asOf: Instant(millisecondsSinceEpoch: row["as_of"]),
            createdAt: Instant(millisecondsSinceEpoch: row["created_at"]), ledgerPosition: row["ledger_position"],
            digest: row["digest"], status: status, summary: row["summary"], itemCount: itemCount, findings: findings)
    }

    /// Streams a plan's items in posting order without holding them all.
    public func forEachPlanItem(ofPlan id: Int64, _ body: (StoredPlanItem) throws -> Void) throws {
        let cursor = try Row.fetchCursor(
            db.cachedStatement(sql: """
                SELECT seq, kind, organisation_id, idempotency_key, payload FROM reconcile_plan_items
                WHERE plan_id = ? ORDER BY seq
                """),
            arguments: [id])
        while let row = try cursor.next() {
            try body(StoredPlanItem(
                seq: row[0], kind: row[1], organisationID: row[2], idempotencyKey: row[3], payload: row[4]))
        }
    }

    /// A plan's items in posting order, all at once (for reports and tests).
    public func planItems(ofPlan id: Int64) throws -> [StoredPlanItem] {
        var items: [StoredPlanItem] = []
        try forEachPlanItem(ofPlan: id) { items.append($0) }
        return items
    }

    /// Organisations that have transfers posted after `position`.
    public func organisationsMoved(since position: Int64) throws -> Set<String> {
        Set(try String.fetchAll(
            db, sql: "SELECT DISTINCT organisation_id FROM transfers WHERE id > ?", arguments: [position]))
    }

    /// Streams the staged events not yet charged (and not voided) that occurred in `[from, before)` (from the
    /// beginning when `from` is nil), in occurrence order, then event id.
    ///
    /// Safe to post while iterating: a deduction posted for a returned event only concerns a row
    /// already behind the walk (and with no index in occurrence order, SQLite sorts every
    /// matching row before it returns the first).
    public func forEachUnchargedEvent(
        from: Instant?, before: Instant, _ body: (UnchargedEvent) throws -> Void
    ) throws {
        let cursor = try Row.fetchCursor(
            db.cachedStatement(sql: """
                SELECT e.event_id, e.organisation_id, e.team, e.investigation, e.operation, e.credits, e.occurred_at,
                    f.name, e.source_line
                FROM cost_events e JOIN source_files f ON f.id = e.source_file_id
                WHERE e.occurred_at >= ? AND e.occurred_at < ?
                  AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.kind = 'deduction' AND t.cost_event_id = e.event_id)
                  AND NOT EXISTS (SELECT 1 FROM cost_event_voids v WHERE v.event_id = e.event_id)
                ORDER BY e.occurred_at, e.event_id
                """),
            arguments: [from?.millisecondsSinceEpoch ?? Int64.min, before.millisecondsSinceEpoch])
        while let row = try cursor.next() {
            try body(UnchargedEvent(
                eventID: row[0], organisationID: row[1], team: row[2], investigation: row[3], operation: row[4],
                credits: Credits(microcredits: row[5]), occurredAt: Instant(millisecondsSinceEpoch: row[6]),
                sourceFile: row[7], sourceLine: row[8]))
        }
    }

    /// Top-ups that name a Revolut order, for the three-way match.
    public func orderTopUps() throws -> [Transfer] {
        try Row.fetchAll(
            db, sql: "\(Self.transferSelect) WHERE t.kind = 'top_up' AND t.revolut_order_id IS NOT NULL ORDER BY t.id"
        ).map(Self.transfer)
    }

    /// The grant created by the transfer with this idempotency key.
    public func grant(createdByKey key: String) throws -> Grant? {
        try Row.fetchOne(
            db, cached: "\(Self.grantSelect) WHERE transfer_id = (SELECT id FROM transfers WHERE idempotency_key = ?)",
            arguments: [key]
        ).map(Self.grant)
    }

    /// Whether an allocation for this organisation and plan period was posted.
    public func hasAllocation(organisationID: String, period: String) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM transfers WHERE kind = 'allocation' AND organisation_id = ? AND plan_period = ?)",
            arguments: [organisationID, period]) ?? false
    }
}
