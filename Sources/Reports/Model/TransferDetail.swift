import Ledger

/// One transfer of the period, for the audit detail export.
public struct TransferDetail: ReportRow, Hashable {
    public var transferID: Int64
    public var postedAt: Instant
    public var kind: TransferKind
    public var organisationID: String
    public var debitAccount: String
    public var creditAccount: String
    public var credits: Credits
    /// The money cost at the grants' cost basis, when the transfer has one.
    public var cost: Money?
    public var idempotencyKey: String
    public var costEventID: String?
    public var revolutOrderID: String?
    public var team: String?
    public var investigation: String?
    public var operation: String?
    public var planPeriod: String?
    public var memo: String?
    /// The organisation's available balance right before and after the transfer, in posting order.
    public var balanceBefore: Credits?
    public var balanceAfter: Credits?
    /// Who made it (`Actor`).
    public var actor: Actor?

    public init(
        transferID: Int64, postedAt: Instant, kind: TransferKind, organisationID: String, debitAccount: String,
        creditAccount: String, credits: Credits, cost: Money?, idempotencyKey: String, costEventID: String? = nil,
        revolutOrderID: String? = nil, team: String? = nil, investigation: String? = nil, operation: String? = nil,
        planPeriod: String? = nil, memo: String? = nil, balanceBefore: Credits? = nil, balanceAfter: Credits? = nil,
        actor: Actor? = nil
    ) {
        self.transferID = transferID
        self.postedAt = postedAt
        self.kind = kind
        self.organisationID = organisationID
        self.debitAccount = debitAccount
        self.creditAccount = creditAccount
        self.credits = credits
        self.cost = cost
        self.idempotencyKey = idempotencyKey
        self.costEventID = costEventID
        self.revolutOrderID = revolutOrderID
        self.team = team
        self.investigation = investigation
        self.operation = operation
        self.planPeriod = planPeriod
        self.memo = memo
        self.balanceBefore = balanceBefore
        self.balanceAfter = balanceAfter
        self.actor = actor
    }

    public static let columns = [
        ReportColumn("Transfer ID", .integer), ReportColumn("Posted at (UTC)", .instant),
        ReportColumn("Kind", .text, width: 12), ReportColumn("Organisation ID", .text),
        ReportColumn("Debit account", .text, width: 24), ReportColumn("Credit account", .text, width: 24),
        ReportColumn("Credits", .credits), ReportColumn("Cost", .money),
        ReportColumn("Idempotency key", .text, width: 30), ReportColumn("Cost event ID", .text, width: 24),
        ReportColumn("Revolut order ID", .text, width: 24), ReportColumn("Team", .text),
        ReportColumn("Investigation", .text), ReportColumn("Operation", .text), ReportColumn("Plan period", .text),
        ReportColumn("Memo", .text, width: 40), ReportColumn("Balance before", .credits),
        ReportColumn("Balance after", .credits), ReportColumn("Actor", .text, width: 30),
    ]

    public var cells: [ReportCell] {
        func text(_ value: String?) -> ReportCell { value.map(ReportCell.text) ?? .empty }
        return [.integer(transferID), .instant(postedAt), .text(kind.rawValue), .text(organisationID), .text(debitAccount),
                .text(creditAccount), .credits(credits), cost.map(ReportCell.money) ?? .empty, .text(idempotencyKey),
                text(costEventID), text(revolutOrderID), text(team), text(investigation), text(operation),
                text(planPeriod), text(memo), balanceBefore.map(ReportCell.credits) ?? .empty,
                balanceAfter.map(ReportCell.credits) ?? .empty, text(actor?.storedText)]
    }
}

/// The transaction detail of a period report.
public typealias TransferDetailStream = RowStream<TransferDetail>
