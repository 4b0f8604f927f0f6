/// A stored plan's findings without its items: what reports need, without loading the payloads
/// of a plan that may propose a million deductions.
public struct PlanFindings: Sendable, Hashable {
    public let planID: Int64
    public let asOf: Instant
    public let status: StoredPlan.Status
    public let findings: [StoredFinding]
}

extension LedgerReader {
    /// The newest plan's findings (whatever its status), in plan order; nil before the first plan.
    public func latestPlanFindings() throws -> PlanFindings? {
        try PlanFindings.latest(on: sql)
    }

    /// The plan's findings, in plan order.
    func findings(ofPlan id: Int64) throws -> [StoredFinding] {
        try PlanFindings.findings(ofPlan: id, on: sql)
    }
}

extension PlanFindings {
    /// The newest plan's findings, in portable SQL (either store).
    static func latest(on sql: some SQLSession) throws -> PlanFindings? {
        guard let row = try sql.record("SELECT id, as_of, status FROM reconcile_plans ORDER BY id DESC LIMIT 1")
        else { return nil }
        let id = row.int64(0)
        let status = try StoredPlan.Status(stored: row.text(2), table: "reconcile_plans", column: "status")
        return PlanFindings(planID: id, asOf: Instant(millisecondsSinceEpoch: row.int64(1)), status: status,
                            findings: try findings(ofPlan: id, on: sql))
    }

    /// A plan's findings, in plan order, in portable SQL (either store).
    static func findings(ofPlan id: Int64, on sql: some SQLSession) throws -> [StoredFinding] {
        try sql.records(
            """
            SELECT seq, severity, code, organisation_id, subject, detail FROM reconcile_findings
            WHERE plan_id = ? ORDER BY seq
            """,
            [.integer(id)]
        ).map { finding in
            StoredFinding(
                seq: Int(finding.int64(0)),
                severity: try FindingSeverity(stored: finding.text(1), table: "reconcile_findings", column: "severity"),
                code: try FindingCode(stored: finding.text(2), table: "reconcile_findings", column: "code"),
                organisationID: finding.textOrNil(3), subject: finding.text(4), detail: finding.text(5))
        }
    }
}
