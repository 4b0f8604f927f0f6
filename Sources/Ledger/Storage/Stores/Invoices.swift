import GRDB

/// The content of an invoice to record: everything but its number. `lines` and `details` are
/// canonical JSON written by Reports (opaque here), so the stored record alone can reproduce the
/// invoice's files.
public struct InvoiceContent: Sendable, Hashable {
    public var organisationID: String
    /// The invoiced period's label, e.g. `2026-11`; one invoice per organisation and period.
    public var period: String
    public var issueDate: LocalDate
    public var dueDate: LocalDate
    /// The organisation's tax rate when issued, parts per million (20% = 200_000).
    public var taxRatePPM: Int64
    public var subtotal: Money
    public var tax: Money
    public var total: Money
    /// The lines as canonical JSON (Reports' format).
    public var lines: String
    /// Seller, buyer and consumption appendix as canonical JSON (Reports' format).
    public var details: String

    /// The content of an invoice; the amounts must share one currency.
    public init(
        organisationID: String, period: String, issueDate: LocalDate, dueDate: LocalDate, taxRatePPM: Int64,
        subtotal: Money, tax: Money, total: Money, lines: String, details: String
    ) {
        self.organisationID = organisationID
        self.period = period
        self.issueDate = issueDate
        self.dueDate = dueDate
        self.taxRatePPM = taxRatePPM
        self.subtotal = subtotal
        self.tax = tax
        self.total = total
        self.lines = lines
        self.details = details
    }

    public var currency: Currency { total.currency }
}

/// An issued invoice as recorded: its number and its content. Never changes once recorded.
public struct StoredInvoice: Sendable, Hashable {
    public let issuerID: String
    /// 1, 2, 3, ... per issuer, with no gaps.
    public let sequence: Int64
    public let number: String
    public let content: InvoiceContent
    /// When it was recorded (the transaction's clock); not printed on the invoice.
    public let createdAt: Instant
}

extension Issuer {
    /// The printed number of the `sequence`-th invoice: the prefix and at least six digits
    /// (`CR-000042`), so numbers sort as text in issue order up to a million invoices.
    public func invoiceNumber(sequence: Int64) -> String {
        let digits = String(sequence)
        return invoicePrefix + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

extension LedgerTransaction {
    /// Records `content` as `issuer`'s next invoice, or returns the invoice already recorded for its
    /// organisation and period unchanged (`created` false): re-issuing never takes a new number.
    /// The number is taken in this transaction, so it is committed with the invoice or not at all.
    public func recordInvoice(
        _ content: InvoiceContent, issuer: Issuer
    ) throws -> (invoice: StoredInvoice, created: Bool) {
        if let existing = try reader.invoice(organisationID: content.organisationID, period: content.period) {
            return (existing, false)
        }
        precondition(content.subtotal.currency == content.currency && content.tax.currency == content.currency,
                     "an invoice's amounts share one currency")
        try db.execute(sql: "INSERT OR IGNORE INTO invoice_counters (issuer_id, last_sequence) VALUES (?, 0)",
                       arguments: [issuer.id])
        let last = try Int64.fetchOne(
            db, sql: "SELECT last_sequence FROM invoice_counters WHERE issuer_id = ?", arguments: [issuer.id]) ?? 0
        let sequence = last + 1
        try db.execute(
            sql: """
                INSERT INTO invoices (issuer_id, sequence, number, organisation_id, period, issue_date, due_date,
                    currency, tax_rate_ppm, subtotal_minor, tax_minor, total_minor, lines, details, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                issuer.id, sequence, issuer.invoiceNumber(sequence: sequence), content.organisationID, content.period,
                content.issueDate.description, content.dueDate.description, content.currency.code,
                content.taxRatePPM, content.subtotal.minorUnits, content.tax.minorUnits, content.total.minorUnits,
                content.lines, content.details, now.millisecondsSinceEpoch,
            ])
        return (try reader.invoice(organisationID: content.organisationID, period: content.period)!, true)
    }
}

extension LedgerReader {
    /// The invoice issued to `organisationID` for `period`, if any.
    public func invoice(organisationID: String, period: String) throws -> StoredInvoice? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM invoices WHERE organisation_id = ? AND period = ?",
            arguments: [organisationID, period]
        ).map(Self.invoice)
    }

    /// Every invoice of `issuerID`, in sequence order.
    public func invoices(issuerID: String) throws -> [StoredInvoice] {
        try Row.fetchAll(db, sql: "SELECT * FROM invoices WHERE issuer_id = ? ORDER BY sequence",
                         arguments: [issuerID]).map(Self.invoice)
    }

    private static func invoice(_ row: Row) throws -> StoredInvoice {
        let currency = try Currency(stored: row["currency"], table: "invoices")
        let issueDate = try LocalDate(stored: row["issue_date"], table: "invoices", column: "issue_date")
        let dueDate = try LocalDate(stored: row["due_date"], table: "invoices", column: "due_date")
        func money(_ column: String) -> Money { Money(minorUnits: row[column], currency: currency) }
        let content = InvoiceContent(
            organisationID: row["organisation_id"], period: row["period"], issueDate: issueDate, dueDate: dueDate,
            taxRatePPM: row["tax_rate_ppm"], subtotal: money("subtotal_minor"), tax: money("tax_minor"),
            total: money("total_minor"), lines: row["lines"], details: row["details"])
        return StoredInvoice(
            issuerID: row["issuer_id"], sequence: row["sequence"], number: row["number"], content: content,
            createdAt: Instant(millisecondsSinceEpoch: row["created_at"]))
    }
}
