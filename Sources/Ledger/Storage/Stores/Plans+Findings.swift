import GRDB

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
        guard let row = try Row.fetchOne(
            db, sql: "SELECT id, as_of, status FROM reconcile_plans ORDER BY id DESC LIMIT 1")
        else { return nil }
        let id: Int64 = row["id"]
        let status = try StoredPlan.Status(stored: row["status"], table: "reconcile_plans", column: "status")
        return PlanFindings(planID: id, asOf: Instant(millisecondsSinceEpoch: row["as_of"]), status: status,
                            findings: try findings(ofPlan: id))
    }

    /// The plan's findings, in plan order.
    func findings(ofPlan id: Int64) throws -> [StoredFinding] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM reconcile_findings WHERE plan_id = ? ORDER BY seq", arguments: [id]
        ).map { finding in
            StoredFinding(
                seq: finding["seq"],
                severity: try FindingSeverity(stored: finding["severity"], table: "reconcile_findings", column: "severity"),
                code: try FindingCode(stored: finding["code"], table: "reconcile_findings", column: "code"),
                organisationID: finding["organisation_id"], subject: finding["subject"], detail: finding["detail"])
        }
    }
}
