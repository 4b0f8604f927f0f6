/// A reconcile plan as stored: what finance reviews (totals per organisation and kind, the
/// findings), the digest of what it posts, and a seal over those rows. The items themselves are not
/// stored: `apply` plans again from the same inputs inside its own transaction and posts only when
/// the result has the same digest.
public struct StoredPlan: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case planned
        case applied
        case superseded
    }

    public let id: Int64
    public let asOf: Instant
    public let createdAt: Instant
    /// The highest transfer id when the plan was made (for people; staleness is the digest's).
    public let ledgerPosition: Int64
    public let digest: String
    public let status: Status
    public let summary: String
    /// The `--aged-after-days` the plan was made with; nil for a plan made by an earlier version.
    public let agedAfterDays: Int?
    /// A hash over the rows above, the totals and the findings; nil for a plan made by an earlier
    /// version (which stored its items instead).
    public let seal: String?
    /// `LedgerReader.planInputs()` when the plan was made or last found to still hold; nil before.
    public let inputs: String?
    public let totals: [PlanTotal]
    public let findings: [StoredFinding]
}
/// What a plan posts for one organisation and kind of transfer.
public struct PlanTotal: Sendable, Hashable, Comparable {
    public let organisationID: String
    /// allocation, top_up, deduction, reversal, expiry.
    public let kind: TransferKind
    public let transfers: Int
    public let credits: Credits

    public init(organisationID: String, kind: TransferKind, transfers: Int, credits: Credits) {
        self.organisationID = organisationID
        self.kind = kind
        self.transfers = transfers
        self.credits = credits
    }

    /// Stored and sealed in this order: organisation, then kind.
    public static func < (lhs: PlanTotal, rhs: PlanTotal) -> Bool {
        (lhs.organisationID, lhs.kind.rawValue) < (rhs.organisationID, rhs.kind.rawValue)
    }
}
public struct StoredFinding: Sendable, Hashable, Codable {
    public let seq: Int
    public let severity: FindingSeverity
    public let code: FindingCode
    public let organisationID: String?
    public let subject: String
    public let detail: String

    public init(
        seq: Int, severity: FindingSeverity, code: FindingCode, organisationID: String?, subject: String,
        detail: String
    ) {
        self.seq = seq
        self.severity = severity
        self.code = code
        self.organisationID = organisationID
        self.subject = subject
        self.detail = detail
    }
}
extension LedgerTransaction {
    /// The id the next stored plan gets (`savePlan(id:)`), so a plan posted as it is made
    /// (`credits reconcile --apply`) can name itself on its transfers before it is stored. Valid
    /// until this transaction stores a plan; no other writer can store one meanwhile (the stage lock).
    public func nextPlanID() throws -> Int64 {
        try sql.integer("SELECT COALESCE(MAX(id), 0) + 1 FROM reconcile_plans") ?? 1
    }

    /// Stores a new plan with its totals and findings, and supersedes any earlier plan not yet
    /// applied. Returns its id: `id` when given (from `nextPlanID`), else the next one.
    public func savePlan(
        id: Int64? = nil, asOf: Instant, agedAfterDays: Int, ledgerPosition: Int64, digest: String, seal: String,
        summary: String, totals: [PlanTotal], findings: [StoredFinding], inputs: String? = nil
    ) throws -> Int64 {
        let sql = try sql
        try sql.execute("UPDATE reconcile_plans SET status = 'superseded' WHERE status = 'planned'")
        // Numbered here on both stores (the next id, unless reserved by `nextPlanID`), not by PostgreSQL's
        // identity sequence, which an id given explicitly would leave behind.
        let planID = try id ?? nextPlanID()
        try sql.execute(
            """
            INSERT INTO reconcile_plans (id, as_of, created_at, ledger_position, digest, status, summary, aged_after_days,
                seal, inputs)
            VALUES (?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?)
            """,
            [.integer(planID), .integer(asOf.millisecondsSinceEpoch), .integer(now.millisecondsSinceEpoch),
             .integer(ledgerPosition), .text(digest), .text(summary), SQLValue(agedAfterDays), .text(seal), SQLValue(inputs)])
        for total in totals {
            try sql.execute(
                "INSERT INTO reconcile_plan_totals (plan_id, organisation_id, kind, transfers, credits) VALUES (?, ?, ?, ?, ?)",
                [.integer(planID), .text(total.organisationID), .text(total.kind.rawValue), SQLValue(total.transfers),
                 .integer(total.credits.microcredits)])
        }
        for finding in findings {
            try sql.execute(
                """
                INSERT INTO reconcile_findings (plan_id, seq, severity, code, organisation_id, subject, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [.integer(planID), SQLValue(finding.seq), .text(finding.severity.rawValue), .text(finding.code.rawValue),
                 SQLValue(finding.organisationID), .text(finding.subject), .text(finding.detail)])
        }
        return planID
    }

    public func markApplied(planID: Int64) throws {
        let changed = try sql.run(
            "UPDATE reconcile_plans SET status = 'applied', applied_at = ? WHERE id = ? AND status = 'planned'"
        ) { row in
            row.add(now.millisecondsSinceEpoch)
            row.add(planID)
        }
        precondition(changed == 1, "only a planned plan can be applied")
    }
}
extension LedgerReader {
    /// The as-of instant of the newest applied plan: everything effective before it was in scope
    /// of a plan that was posted.
    public func lastAppliedPlanAsOf() throws -> Instant? {
        try sql.integer("SELECT MAX(as_of) FROM reconcile_plans WHERE status = 'applied'")
            .map(Instant.init(millisecondsSinceEpoch:))
    }

    /// When the newest applied plan was applied.
    public func lastPlanAppliedAt() throws -> Instant? {
        try sql.integer("SELECT MAX(applied_at) FROM reconcile_plans WHERE status = 'applied'")
            .map(Instant.init(millisecondsSinceEpoch:))
    }

    /// The newest plan, whatever its status.
    public func latestPlan() throws -> StoredPlan? {
        guard let id = try sql.integer("SELECT MAX(id) FROM reconcile_plans") else { return nil }
        return try plan(id: id)
    }

    public func plan(id: Int64) throws -> StoredPlan? {
        let sql = try sql
        guard let row = try sql.record(
            """
            SELECT as_of, created_at, ledger_position, digest, status, summary, aged_after_days, seal, inputs
            FROM reconcile_plans WHERE id = ?
            """, [.integer(id)])
        else { return nil }
        let totals = try sql.records(
            """
            SELECT organisation_id, kind, transfers, credits FROM reconcile_plan_totals
            WHERE plan_id = ? ORDER BY organisation_id COLLATE BINARY, kind COLLATE BINARY
            """, [.integer(id)]
        ).map { total in
            PlanTotal(organisationID: total.text(0),
                      kind: try TransferKind(stored: total.text(1), table: "reconcile_plan_totals", column: "kind"),
                      transfers: Int(total.int64(2)), credits: Credits(microcredits: total.int64(3)))
        }
        let findings = try findings(ofPlan: id)
        let status = try StoredPlan.Status(stored: row.text(4), table: "reconcile_plans", column: "status")
        return StoredPlan(
            id: id, asOf: Instant(millisecondsSinceEpoch: row.int64(0)),
            createdAt: Instant(millisecondsSinceEpoch: row.int64(1)), ledgerPosition: row.int64(2),
            digest: row.text(3), status: status, summary: row.text(5), agedAfterDays: row.int64OrNil(6).map { Int($0) },
            seal: row.textOrNil(7), inputs: row.textOrNil(8), totals: totals, findings: findings)
    }

    /// Streams the staged events not yet charged (and not voided) that occurred in `[from, before)` (from the
    /// beginning when `from` is nil), in occurrence order, then event id.
    ///
    /// Streamed in index order (`cost_events_by_occurrence`), so memory does not grow with the night.
    /// Safe to post while iterating: a deduction posted for a returned event only concerns a row
    /// already behind the walk, and postings write no `cost_events` row. Rows are read straight off
    /// the statement (`PostingSession.forEach`), and each source file's name is made once, not per event.
    public func forEachUnchargedEvent(
        from: Instant?, before: Instant, _ body: (UnchargedEvent) throws -> Void
    ) throws {
        var files: [Int64: String] = [:]
        try sqlReadingNoBalances.forEach(
            """
            SELECT e.event_id, e.organisation_id, e.team, e.investigation, e.operation, e.credits, e.occurred_at,
                e.source_file_id, f.name, e.source_line
            FROM cost_events e JOIN source_files f ON f.id = e.source_file_id
            WHERE e.occurred_at >= ? AND e.occurred_at < ?
              AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.kind = 'deduction' AND t.cost_event_id = e.event_id)
              AND NOT EXISTS (SELECT 1 FROM usage_charges c WHERE c.event_id = e.event_id)
              AND NOT EXISTS (SELECT 1 FROM cost_event_voids v WHERE v.event_id = e.event_id)
            ORDER BY e.occurred_at, e.event_id COLLATE BINARY
            """,
            bind: { arguments in
                arguments.add(from?.millisecondsSinceEpoch ?? Int64.min)
                arguments.add(before.millisecondsSinceEpoch)
            }
        ) { row in
            let fileID = row.int64(7)
            let file: String
            if let known = files[fileID] {
                file = known
            } else {
                file = row.text(8)
                files[fileID] = file
            }
            try body(UnchargedEvent(
                eventID: row.text(0), organisationID: row.text(1), team: row.text(2), investigation: row.textOrNil(3),
                operation: row.text(4), credits: Credits(microcredits: row.int64(5)),
                occurredAt: Instant(millisecondsSinceEpoch: row.int64(6)), sourceFile: file,
                sourceLine: Int(row.int64(9))))
        }
    }

    /// The grant created by the transfer with this idempotency key.
    public func grant(createdByKey key: String) throws -> Grant? {
        try sql.record(
            "\(Self.grantSelect) WHERE transfer_id = (SELECT id FROM transfers WHERE idempotency_key = ?)", [.text(key)]
        ).map { try Self.grant($0) }
    }

    /// Whether an allocation for this organisation and plan period was posted.
    public func hasAllocation(organisationID: String, period: String) throws -> Bool {
        try sql.first(
            "SELECT 1 FROM transfers WHERE kind = 'allocation' AND organisation_id = ? AND plan_period = ?",
            bind: { $0.add(organisationID); $0.add(period) }, read: { _ in true }) ?? false
    }
}
