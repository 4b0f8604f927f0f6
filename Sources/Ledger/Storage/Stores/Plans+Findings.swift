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
        guard let status = StoredPlan.Status(rawValue: row["status"]) else {
            preconditionFailure("plan \(id) has a status the schema should refuse")
        }
        let findings = try Row.fetchAll(
            db, sql: "SELECT * FROM reconcile_findings WHERE plan_id = ? ORDER BY seq", arguments: [id]
        ).map { finding in
            StoredFinding(
                seq: finding["seq"], severity: finding["severity"], code: finding["code"],
                organisationID: finding["organisation_id"], subject: finding["subject"], detail: finding["detail"])
        }
        return PlanFindings(planID: id, asOf: Instant(millisecondsSinceEpoch: row["as_of"]), status: status,
                            findings: findings)
    }
}
