import Ledger

/// A reconciliation exception for a person to review (unmatched payment, amount mismatch, ...).
public struct ReconciliationException: ReportRow, Hashable {
    /// Empty when the record could not be tied to an organisation.
    public var organisationID: String
    /// `exception` (needs a person) or `aged` (waiting longer than expected).
    public var severity: FindingSeverity
    /// The order id, event id or file:line.
    public var reference: String
    /// The rule, e.g. `orderAmountMismatch`.
    public var code: FindingCode
    public var detail: String
    public var amount: Money?
    public var observedAt: Instant?

    /// What the rule is about, shown in the Source column.
    public enum Source: String, Sendable, Hashable {
        case payments
        case costEvents = "cost-events"

        public init(_ code: FindingCode) {
            self = code.isAboutUsage ? .costEvents : .payments
        }
    }

    /// Where it came from, by its rule: `cost-events` for usage rules, `payments` for the others.
    public var source: Source { Source(code) }

    public init(
        organisationID: String, severity: FindingSeverity = .exception, reference: String, code: FindingCode,
        detail: String, amount: Money? = nil, observedAt: Instant? = nil
    ) {
        self.organisationID = organisationID
        self.severity = severity
        self.reference = reference
        self.code = code
        self.detail = detail
        self.amount = amount
        self.observedAt = observedAt
    }

    public static let columns = [
        ReportColumn("Organisation ID", .text), ReportColumn("Severity", .text, width: 10),
        ReportColumn("Source", .text, width: 14), ReportColumn("Reference", .text, width: 30),
        ReportColumn("Code", .text, width: 24),
        ReportColumn("Detail", .text, width: 50), ReportColumn("Amount", .money),
        ReportColumn("Observed at (UTC)", .instant),
    ]

    public var cells: [ReportCell] {
        [.text(organisationID), .text(severity.rawValue), .text(source.rawValue), .text(reference), .text(code.rawValue),
         .text(detail),
         amount.map(ReportCell.money) ?? .empty, observedAt.map(ReportCell.instant) ?? .empty]
    }
}
