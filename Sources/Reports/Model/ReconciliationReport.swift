import Ledger

/// The reconciliation report of one stored plan: what it proposes, what matched, what needs a
/// person (exceptions) and what is waiting too long (aged).
public struct ReconciliationReport {
    public let planID: Int64
    public let asOf: Instant
    /// When the plan was made; the workbook's creation date (never the clock at writing time).
    public let createdAt: Instant
    public let digest: String
    public let status: StoredPlan.Status
    public let proposed: RowStream<ProposedTransfer>
    public let matched: [ReconciliationFinding]
    public let exceptions: [ReconciliationFinding]
    public let aged: [ReconciliationFinding]

    /// The plan's findings split by severity, in plan order; `proposed` are its items, decoded by
    /// the caller (their payload format belongs to Reconcile) and streamed: a night's plan can
    /// propose a million deductions.
    public init(plan: StoredPlan, proposed: RowStream<ProposedTransfer>) {
        planID = plan.id
        asOf = plan.asOf
        createdAt = plan.createdAt
        digest = plan.digest
        status = plan.status
        self.proposed = proposed
        let findings = plan.findings.map(ReconciliationFinding.init)
        matched = findings.filter { $0.severity == .matched }
        exceptions = findings.filter { $0.severity == .exception }
        aged = findings.filter { $0.severity == .aged }
    }

    public init(plan: StoredPlan, proposed: [ProposedTransfer]) {
        self.init(plan: plan, proposed: RowStream(proposed))
    }
}
