import Ledger

/// The Summary row of an audit statement: whose, which window, opening and closing, and the digest.
public struct AuditSummaryRow: ReportRow, Hashable {
    public var organisationID: String
    public var currency: String
    public var from: Instant
    public var to: Instant
    public var opening: Credits
    public var closing: Credits
    public var movements: Int64
    public var digest: String
    /// 128 hex digits, or `unsigned` when no signing key was given.
    public var signature: String
    /// The public key (64 hex digits) that made the signature, empty if unsigned; for information only.
    public var signingKey: String

    public init(_ statement: AuditStatement) {
        organisationID = statement.organisationID
        currency = statement.currency.code
        from = statement.from
        to = statement.to
        opening = statement.opening
        closing = statement.closing
        movements = Int64(statement.entryCount)
        digest = statement.digest
        signature = statement.signature?.hex ?? AuditStatement.unsignedText
        signingKey = statement.signature?.publicKey.hex ?? ""
    }

    public static let columns = [
        ReportColumn("Organisation", .text), ReportColumn("Currency", .text), ReportColumn("From", .instant),
        ReportColumn("To (exclusive)", .instant), ReportColumn("Opening balance", .credits),
        ReportColumn("Closing balance", .credits), ReportColumn("Movements", .integer),
        ReportColumn("Statement digest (SHA-256)", .text), ReportColumn("Signature (Ed25519)", .text),
        ReportColumn("Signing public key", .text),
    ]

    public var cells: [ReportCell] {
        [.text(organisationID), .text(currency), .instant(from), .instant(to), .credits(opening), .credits(closing),
         .integer(movements), .text(digest), .text(signature), signingKey.isEmpty ? .empty : .text(signingKey)]
    }
}

/// One movement of an audit statement, with who made it, why, and the balance after it.
public struct AuditEntryRow: ReportRow, Hashable {
    public var entry: AuditEntry

    public init(_ entry: AuditEntry) { self.entry = entry }

    public static let columns = [
        ReportColumn("Transfer", .integer), ReportColumn("Effective", .instant), ReportColumn("Recorded", .instant),
        ReportColumn("Kind", .text), ReportColumn("Credits", .credits, total: .sum), ReportColumn("Money", .money, total: .sum),
        ReportColumn("Balance after", .credits), ReportColumn("Actor", .text), ReportColumn("Reason", .text),
        ReportColumn("Idempotency key", .text), ReportColumn("Reference", .text),
    ]

    public var cells: [ReportCell] {
        [.integer(entry.transferID), .instant(entry.effectiveAt), .instant(entry.recordedAt), .text(entry.kind.rawValue),
         .credits(entry.credits), .money(entry.money), .credits(entry.balance), .text(entry.actor.storedText),
         entry.reason.map(ReportCell.text) ?? .empty, .text(entry.idempotencyKey),
         entry.reference.map(ReportCell.text) ?? .empty]
    }
}
