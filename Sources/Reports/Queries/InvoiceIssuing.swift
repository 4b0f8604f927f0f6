// Issues invoices: numbers them in the Ledger and rebuilds each from its stored record.
//
// Method: in one ledger write transaction, for each organisation, draft the invoice from the
// ledger; if one was already issued for the organisation and period, keep it (same number, same
// lines); otherwise record the draft, which takes the issuer's next number in that transaction.
// Files are always written from the stored record (never from the draft), so a run killed after
// the commit and before its files exist is healed by a rerun that writes the same bytes.
import Foundation
import Ledger

/// Why invoices could not be issued.
public struct InvoiceIssueError: ClassifiedError, Equatable {
    public enum Reason: Sendable, Equatable {
        /// No issuer is configured (run `credits init`).
        case noIssuer
        /// A stored invoice cannot be read back, or its totals disagree with its lines: a bug.
        case storedInvoiceUnreadable
        /// The draft's values cannot form an invoice (currency mismatch, tax rate, overflow).
        case invalidDraft
    }

    public let reason: Reason
    public let detail: String

    public init(_ reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var failureClass: FailureClass {
        switch reason {
        case .noIssuer: .inputMissing
        case .storedInvoiceUnreadable: .internal
        case .invalidDraft: .badData
        }
    }

    public var description: String {
        switch reason {
        case .noIssuer: "no invoice issuer is configured; run `credits init` with an issuer.yaml"
        case .storedInvoiceUnreadable: "stored invoice cannot be read back: \(detail)"
        case .invalidDraft: "cannot build the invoice: \(detail)"
        }
    }
}

/// One organisation's invoice after an issuing run.
public struct IssuedInvoice: Sendable, Hashable {
    public let organisationID: String
    /// Rebuilt from the stored record: what the files show.
    public let invoice: Invoice
    /// False when the invoice had been issued by an earlier run (a rerun).
    public let newlyIssued: Bool
    /// True when the ledger now bills different lines for the period than the issued invoice
    /// (something was posted into the period after issuing): a person must raise a credit note or
    /// a supplementary invoice. The issued invoice is never changed.
    public let differsFromLedger: Bool
}

/// Issues invoices for a period.
public enum InvoiceIssuing {
    /// The result of one run: invoices in organisation order, and the organisations with nothing
    /// to bill (no invoice and no number is taken for them).
    public struct Outcome: Sendable, Hashable {
        public var invoices: [IssuedInvoice] = []
        public var nothingToBill: [String] = []
    }

    /// Issues (or finds) the invoice of each organisation for `period` in one ledger transaction.
    /// `organisationIDs` nil means every organisation, by id; `issueDate` nil means the period's
    /// last day. Due date = issue date + the organisation's payment terms.
    public static func issue(
        _ ledger: LedgerDatabase, period: ReportPeriod, organisationIDs: [String]?, issueDate: LocalDate? = nil
    ) throws -> Outcome {
        try ledger.write(as: .pipeline(.invoice)) { tx in
            try issue(in: tx, period: period, organisationIDs: organisationIDs, issueDate: issueDate)
        }
    }

    /// `issue` inside a write transaction of either store (`PostgresStore.invoicing` on PostgreSQL).
    public static func issue(
        in tx: any LedgerInvoicing, period: ReportPeriod, organisationIDs: [String]?, issueDate: LocalDate? = nil
    ) throws -> Outcome {
        let reader = tx.reads
        guard let issuer = try reader.issuer() else { throw InvoiceIssueError(.noIssuer, detail: "") }
        var outcome = Outcome()
        for organisation in try PeriodReportQuery.organisations(reader, ids: organisationIDs) {
            let draft = try InvoiceQuery.draft(
                reader, organisation: organisation, issuer: issuer, period: period, number: "",
                issueDate: issueDate ?? period.lastDay)
            let stored = try reader.invoice(organisationID: organisation.id, period: period.label)
            guard stored != nil || !draft.lines.isEmpty else {
                outcome.nothingToBill.append(organisation.id)
                continue
            }
            let record = try stored ?? tx.recordInvoice(try draft.content(organisationID: organisation.id),
                                                        issuer: issuer).invoice
            let invoice = try Invoice(stored: record, period: period)
            outcome.invoices.append(IssuedInvoice(
                organisationID: organisation.id, invoice: invoice, newlyIssued: stored == nil,
                differsFromLedger: billed(invoice.lines) != billed(draft.lines)))
        }
        return outcome
    }
}

extension InvoiceIssuing {
    /// What a line bills, without its wording (a renamed plan is not a different bill).
    static func billed(_ lines: [InvoiceLine]) -> [[String]] {
        lines.map { [$0.kind.rawValue, $0.reference ?? "", $0.date?.description ?? "",
                     $0.credits?.description ?? "", $0.amount.description] }
    }
}

/// What is stored beside the lines: the parties as printed and the consumption appendix.
private struct InvoiceDetailsDocument: Codable {
    var seller: InvoiceParty
    var buyer: InvoiceParty
    var appendix: [InvoiceAppendixRow]
}

extension Invoice {
    /// Sorted keys, no escaped slashes: the same invoice always gives the same bytes.
    static func canonicalJSON<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The record the Ledger stores for this invoice (its number is taken when it is recorded).
    public func content(organisationID: String) throws -> InvoiceContent {
        guard let ppm = taxRatePercent.scaled(toPlaces: 4) else {
            throw InvoiceIssueError(.invalidDraft, detail: "tax rate \(taxRatePercent)% has more than 4 decimals")
        }
        return InvoiceContent(
            organisationID: organisationID, period: period.label, issueDate: issueDate, dueDate: dueDate,
            taxRatePPM: ppm, subtotal: subtotal, tax: tax, total: total, lines: try Self.canonicalJSON(lines),
            details: try Self.canonicalJSON(InvoiceDetailsDocument(seller: seller, buyer: buyer, appendix: appendix)))
    }

    /// The invoice exactly as it was recorded. Its totals are recomputed from the stored lines and
    /// must agree with the stored totals.
    public init(stored: StoredInvoice, period: ReportPeriod) throws {
        let content = stored.content
        let decoder = JSONDecoder()
        let lines: [InvoiceLine]
        let details: InvoiceDetailsDocument
        do {
            lines = try decoder.decode([InvoiceLine].self, from: Data(content.lines.utf8))
            details = try decoder.decode(InvoiceDetailsDocument.self, from: Data(content.details.utf8))
            try self.init(
                number: stored.number, issueDate: content.issueDate, dueDate: content.dueDate, period: period,
                seller: details.seller, buyer: details.buyer, currency: content.currency, lines: lines,
                taxRatePercent: ExactDecimal(significand: content.taxRatePPM, scale: 4), appendix: details.appendix)
        } catch {
            throw InvoiceIssueError(.storedInvoiceUnreadable, detail: "\(stored.number): \(error)")
        }
        guard subtotal == content.subtotal, tax == content.tax, total == content.total else {
            throw InvoiceIssueError(.storedInvoiceUnreadable, detail: "\(stored.number): totals disagree with lines")
        }
    }
}
