import Ledger

/// A transfer the reconcile plan proposes (not posted until `credits apply`).
public struct ProposedTransfer: ReportRow, Hashable {
    /// The item's position in the plan's posting order.
    public var seq: Int
    public var kind: TransferKind
    public var organisationID: String
    public var effectiveAt: Instant
    /// What the transfer posts (an expiry: what is left of its grant), as the plan's dry run found.
    public var credits: Credits?
    /// The price paid (top-up) or plan fee (allocation), when the item carries money.
    public var amount: Money?
    /// The Revolut order, cost event, plan period or grant the item is about.
    public var reference: String
    public var idempotencyKey: String

    public init(
        seq: Int, kind: TransferKind, organisationID: String, effectiveAt: Instant, credits: Credits?, amount: Money?,
        reference: String, idempotencyKey: String
    ) {
        self.seq = seq
        self.kind = kind
        self.organisationID = organisationID
        self.effectiveAt = effectiveAt
        self.credits = credits
        self.amount = amount
        self.reference = reference
        self.idempotencyKey = idempotencyKey
    }

    public static let columns = [
        ReportColumn("Seq", .integer, width: 7, total: .label("Total")), ReportColumn("Kind", .text, width: 12),
        ReportColumn("Organisation ID", .text), ReportColumn("Effective at (UTC)", .instant),
        ReportColumn("Credits", .credits, total: .sum), ReportColumn("Amount", .money, total: .sum),
        ReportColumn("Reference", .text, width: 30), ReportColumn("Idempotency key", .text, width: 44),
    ]

    public var cells: [ReportCell] {
        [.integer(Int64(seq)), .text(kind.rawValue), .text(organisationID), .instant(effectiveAt),
         credits.map(ReportCell.credits) ?? .empty, amount.map(ReportCell.money) ?? .empty, .text(reference),
         .text(idempotencyKey)]
    }
}

/// A finding of the plan, as a person reads it.
public struct ReconciliationFinding: ReportRow, Hashable {
    public var seq: Int
    public var severity: FindingSeverity
    public var code: FindingCode
    /// Empty when the finding could not be tied to an organisation.
    public var organisationID: String
    public var subject: String
    public var detail: String

    public init(_ finding: StoredFinding) {
        seq = finding.seq
        severity = finding.severity
        code = finding.code
        organisationID = finding.organisationID ?? ""
        subject = finding.subject
        detail = finding.detail
    }

    public static let columns = [
        ReportColumn("Seq", .integer, width: 7), ReportColumn("Severity", .text, width: 10),
        ReportColumn("Code", .text, width: 28), ReportColumn("Organisation ID", .text),
        ReportColumn("Subject", .text, width: 30), ReportColumn("Detail", .text, width: 60),
    ]

    public var cells: [ReportCell] {
        [.integer(Int64(seq)), .text(severity.rawValue), .text(code.rawValue), .text(organisationID), .text(subject), .text(detail)]
    }
}

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
