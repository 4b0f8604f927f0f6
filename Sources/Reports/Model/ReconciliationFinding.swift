import Ledger

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
