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
        try InvoiceBook.record(content, issuer: issuer, now: now, on: sql)
    }
}

extension LedgerReader {
    /// The invoice issued to `organisationID` for `period`, if any.
    public func invoice(organisationID: String, period: String) throws -> StoredInvoice? {
        try InvoiceBook.invoice(organisationID: organisationID, period: period, on: sql)
    }

    /// Every invoice of `issuerID`, in sequence order.
    public func invoices(issuerID: String) throws -> [StoredInvoice] {
        try InvoiceBook.invoices(issuerID: issuerID, on: sql)
    }
}

/// Invoices and their numbers, in portable SQL (either store). The numbers are gap-free by the schema:
/// an invoice must take its issuer's next sequence, and taking it moves the counter (triggers on both).
enum InvoiceBook {
    /// See `LedgerTransaction.recordInvoice(_:issuer:)`.
    static func record(
        _ content: InvoiceContent, issuer: Issuer, now: Instant, on sql: some SQLSession
    ) throws -> (invoice: StoredInvoice, created: Bool) {
        if let existing = try invoice(organisationID: content.organisationID, period: content.period, on: sql) {
            return (existing, false)
        }
        precondition(content.subtotal.currency == content.currency && content.tax.currency == content.currency,
                     "an invoice's amounts share one currency")
        try sql.execute(
            "INSERT INTO invoice_counters (issuer_id, last_sequence) VALUES (?, 0) ON CONFLICT (issuer_id) DO NOTHING",
            [.text(issuer.id)])
        let last = try sql.integer(
            "SELECT last_sequence FROM invoice_counters WHERE issuer_id = ?", [.text(issuer.id)]) ?? 0
        let sequence = last + 1
        try sql.execute(
            """
            INSERT INTO invoices (issuer_id, sequence, number, organisation_id, period, issue_date, due_date,
                currency, tax_rate_ppm, subtotal_minor, tax_minor, total_minor, lines, details, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(issuer.id), .integer(sequence), .text(issuer.invoiceNumber(sequence: sequence)),
                .text(content.organisationID), .text(content.period), .text(content.issueDate.description),
                .text(content.dueDate.description), .text(content.currency.code), .integer(content.taxRatePPM),
                .integer(content.subtotal.minorUnits), .integer(content.tax.minorUnits),
                .integer(content.total.minorUnits), .text(content.lines), .text(content.details),
                .integer(now.millisecondsSinceEpoch),
            ])
        guard let recorded = try invoice(organisationID: content.organisationID, period: content.period, on: sql) else {
            preconditionFailure("the invoice was just recorded")
        }
        return (recorded, true)
    }

    static func invoice(organisationID: String, period: String, on sql: some SQLSession) throws -> StoredInvoice? {
        try sql.record("\(select) WHERE organisation_id = ? AND period = ?", [.text(organisationID), .text(period)])
            .map(invoice)
    }

    static func invoices(issuerID: String, on sql: some SQLSession) throws -> [StoredInvoice] {
        try sql.records("\(select) WHERE issuer_id = ? ORDER BY sequence", [.text(issuerID)]).map(invoice)
    }

    private static let select = """
        SELECT issuer_id, sequence, number, organisation_id, period, issue_date, due_date, currency, tax_rate_ppm,
            subtotal_minor, tax_minor, total_minor, lines, details, created_at
        FROM invoices
        """

    private static func invoice(_ row: SQLRecord) throws -> StoredInvoice {
        let currency = try Currency(stored: row.text(7), table: "invoices")
        let issueDate = try LocalDate(stored: row.text(5), table: "invoices", column: "issue_date")
        let dueDate = try LocalDate(stored: row.text(6), table: "invoices", column: "due_date")
        let content = InvoiceContent(
            organisationID: row.text(3), period: row.text(4), issueDate: issueDate, dueDate: dueDate,
            taxRatePPM: row.int64(8), subtotal: Money(minorUnits: row.int64(9), currency: currency),
            tax: Money(minorUnits: row.int64(10), currency: currency),
            total: Money(minorUnits: row.int64(11), currency: currency), lines: row.text(12), details: row.text(13))
        return StoredInvoice(
            issuerID: row.text(0), sequence: row.int64(1), number: row.text(2), content: content,
            createdAt: Instant(millisecondsSinceEpoch: row.int64(14)))
    }
}
