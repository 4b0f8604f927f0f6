import Foundation
import GRDB
@testable import Ledger
import Testing
import TestSupport

/// Invariant I15: invoice numbers are unique and gap-free per issuer, enforced by the schema too.
@Suite("invoice numbering")
struct InvoiceNumberingTests {
    static func content(_ organisationID: String, period: String = "2026-11") -> InvoiceContent {
        let gbp = { (minor: Int64) in Money(minorUnits: minor, currency: .gbp) }
        let day = LocalDate(year: 2026, month: 11, day: 30)!
        return InvoiceContent(
            organisationID: organisationID, period: period, issueDate: day, dueDate: day.adding(days: 30),
            taxRatePPM: 200_000, subtotal: gbp(1000), tax: gbp(200), total: gbp(1200), lines: "[]", details: "{}")
    }

    static func issuer(_ id: String = "credits-ltd") -> Issuer {
        Issuer(id: id, legalName: "Credits Ltd", address: [], taxNumber: nil, invoicePrefix: "CR-", email: nil)
    }

    @Test("numbers are 1, 2, 3 per issuer; the same organisation and period returns the recorded invoice")
    func sequence() throws {
        let directory = TemporaryDirectory("invoices")
        let organisations = ["a", "b", "c"].map { SampleWorld.organisation($0) }
        let ledger = try SampleWorld.ledger(in: directory, organisations: organisations)
        let numbers = try ledger.write { tx in
            try ["a", "b", "a", "c"].map { try tx.recordInvoice(Self.content($0), issuer: Self.issuer()) }
        }
        #expect(numbers.map(\.invoice.number) == ["CR-000001", "CR-000002", "CR-000001", "CR-000003"])
        #expect(numbers.map(\.created) == [true, true, false, true])
        let other = try ledger.write { tx in
            try tx.recordInvoice(Self.content("a", period: "2026-12"), issuer: Self.issuer("other"))
        }
        #expect(other.invoice.sequence == 1, "each issuer counts on its own")
        #expect(Self.issuer().invoiceNumber(sequence: 1_234_567) == "CR-1234567")
        let report = try ledger.read { try $0.verify() }
        #expect(report.checks.contains { $0.name == "invoicesGapFree" && $0.passed })
    }

    @Test("the schema refuses a skipped or repeated sequence, and any change to an issued invoice")
    func schemaRefusesGaps() throws {
        let directory = TemporaryDirectory("invoices")
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("a")])
        _ = try ledger.write { try $0.recordInvoice(Self.content("a"), issuer: Self.issuer()) }
        let insert = """
            INSERT INTO invoices (issuer_id, sequence, number, organisation_id, period, issue_date, due_date,
                currency, tax_rate_ppm, subtotal_minor, tax_minor, total_minor, lines, details, created_at)
            VALUES ('credits-ltd', ?, ?, 'a', ?, '2026-12-31', '2027-01-30', 'GBP', 0, 1, 0, 1, '[]', '{}', 0)
            """
        for (sequence, number, period) in [(3, "CR-000003", "2026-12"), (1, "CR-000009", "2026-12")] {
            #expect(throws: (any Error).self) {
                try ledger.write { tx in try tx.db.execute(sql: insert, arguments: [sequence, number, period]) }
            }
        }
        #expect(throws: (any Error).self) {
            try ledger.write { tx in try tx.db.execute(sql: "UPDATE invoices SET total_minor = 0") }
        }
        #expect(throws: (any Error).self) {
            try ledger.write { tx in try tx.db.execute(sql: "DELETE FROM invoices") }
        }
        let stored = try ledger.read { try $0.invoices(issuerID: "credits-ltd") }
        #expect(stored.map(\.sequence) == [1])

        // Tampering past the triggers leaves a gap that `verify` reports.
        try ledger.write { tx in
            try tx.db.execute(sql: "DROP TRIGGER invoices_are_immutable_delete; DELETE FROM invoices")
        }
        let check = try ledger.read { try $0.verify() }.checks.first { $0.name == "invoicesGapFree" }
        #expect(check?.passed == false && check?.detail.contains("counter 1, 0 invoices") == true)
    }
}
