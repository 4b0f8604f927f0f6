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
