import Foundation
import Ledger
import Reports
import Testing
import TestSupport

/// Issuing: numbering in the ledger, reruns, a crash between numbering and writing files.
@Suite("invoice issuing")
struct InvoiceIssuingTests {
    static let november = ReportPeriod.month(year: 2026, month: 11)

    /// Orgs a, b (GBP, 20% tax) and c (nothing billed). a: allocation £450 + top-up £250; b: top-up £99.99.
    static func ledger(_ directory: TemporaryDirectory) throws -> LedgerDatabase {
        let organisations = ["a", "b", "c"].map { SampleWorld.organisation($0) }
        let database = try SampleWorld.ledger(in: directory, organisations: organisations)
        try database.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "alloc-a", organisationID: "a", source: .allocation, credits: credits("10000"),
                price: Money(minorUnits: 45000, currency: .gbp), effectiveAt: instant("2026-11-01T00:00:00Z"),
                references: TransferReferences(planPeriod: "2026-11")))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "top-a", organisationID: "a", source: .topUp, credits: credits("5000"),
                price: Money(minorUnits: 25000, currency: .gbp), effectiveAt: instant("2026-11-14T09:30:00Z"),
                references: TransferReferences(revolutOrderID: "ord_a1")))
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "top-b", organisationID: "b", source: .topUp, credits: credits("2222"),
                price: Money(minorUnits: 9999, currency: .gbp), effectiveAt: instant("2026-11-20T12:00:00Z"),
                references: TransferReferences(revolutOrderID: "ord_b1")))
            _ = try tx.spend(SpendRequest(
                idempotencyKey: "use-a", organisationID: "a", credits: credits("12.5"),
                effectiveAt: instant("2026-11-22T00:00:00Z"), priority: .p1, policy: .allowOverdraft(limit: .zero),
                references: TransferReferences(team: "analysis", investigation: "op-urgent")))
        }
        return database
    }

    static func numbers(_ outcome: InvoiceIssuing.Outcome) -> [String] { outcome.invoices.map(\.invoice.number) }

    @Test("two organisations get consecutive numbers; one with nothing to bill takes none; reruns return the same")
    func numbering() throws {
        let directory = TemporaryDirectory("invoice-issue")
        let ledger = try Self.ledger(directory)
        let first = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: nil)
        #expect(Self.numbers(first) == ["CR-000001", "CR-000002"])
        #expect(first.invoices.map(\.organisationID) == ["a", "b"])
        #expect(first.invoices.allSatisfy { $0.newlyIssued && !$0.differsFromLedger })
        #expect(first.nothingToBill == ["c"])

        let again = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["b", "a"],
                                             issueDate: LocalDate(year: 2027, month: 1, day: 9)!)
        #expect(Self.numbers(again) == ["CR-000002", "CR-000001"])
        #expect(again.invoices.allSatisfy { !$0.newlyIssued })
        #expect(again.invoices[1].invoice == first.invoices[0].invoice, "same number, lines, dates and totals")

        let december = try InvoiceIssuing.issue(ledger, period: .month(year: 2026, month: 10), organisationIDs: nil)
        #expect(december.invoices.isEmpty, "nothing billed in October: no number taken")
        let stored = try ledger.read { try $0.invoices(issuerID: "credits-ltd") }
        #expect(stored.map(\.sequence) == [1, 2], "gap-free")
        #expect(stored.map(\.number) == ["CR-000001", "CR-000002"])
    }

    @Test("lines, dates, parties and totals: total = subtotal + tax exactly, tax half-even at the org's rate")
    func content() throws {
        let directory = TemporaryDirectory("invoice-issue")
        let ledger = try Self.ledger(directory)
        let outcome = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["a", "b"])
        let a = outcome.invoices[0].invoice
        #expect(a.lines.map(\.kind) == [.planFee, .package])
        #expect(a.lines[1].reference == "ord_a1" && a.lines[1].date == LocalDate(year: 2026, month: 11, day: 14)!)
        #expect(a.issueDate == LocalDate(year: 2026, month: 11, day: 30)!, "the period's last day by default")
        #expect(a.dueDate == LocalDate(year: 2026, month: 12, day: 30)!, "30 days of payment terms")
        #expect(a.seller.name == "Credits Ltd" && a.buyer.name == "Org a")
        #expect(a.appendix.map(\.consumption.credits) == [credits("12.5")])
        #expect([a.subtotal.minorUnits, a.tax.minorUnits, a.total.minorUnits] == [70000, 14000, 84000])
        let b = outcome.invoices[1].invoice
        // 9999 x 20% = 1999.8 -> 2000.
        #expect([b.subtotal.minorUnits, b.tax.minorUnits, b.total.minorUnits] == [9999, 2000, 11999])
        for invoice in [a, b] {
            #expect(invoice.total.minorUnits == invoice.subtotal.minorUnits + invoice.tax.minorUnits)
            #expect(invoice.subtotal.minorUnits == invoice.lines.reduce(0) { $0 + $1.amount.minorUnits })
        }
    }

    @Test("a crash after numbering and before the files: the rerun writes the same number's files")
    func crashBetweenNumberingAndFiles() throws {
        let directory = TemporaryDirectory("invoice-issue")
        let ledger = try Self.ledger(directory)
        let out = URL(fileURLWithPath: directory.file("out"))
        let first = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["a"])
        // The writer fails (its directory is missing), as a process killed here would leave it.
        #expect(throws: ReportOutputError.self) { try InvoiceWriter().write(first.invoices[0].invoice, to: out) }
        #expect(!FileManager.default.fileExists(atPath: out.path))

        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let rerun = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["a"])
        #expect(Self.numbers(rerun) == ["CR-000001"] && !rerun.invoices[0].newlyIssued)
        let files = try InvoiceWriter().write(rerun.invoices[0].invoice, to: out)
        #expect(files.map(\.lastPathComponent) == [
            "invoice-CR-000001.xlsx", "invoice-CR-000001.csv", "invoice-CR-000001-appendix.csv",
        ])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).count == 3, "no temporary files left")
        let b = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["b"])
        #expect(Self.numbers(b) == ["CR-000002"], "the next invoice follows without a gap")
    }

    @Test("posting into an issued period is flagged; the issued invoice does not change")
    func ledgerMovedAfterIssue() throws {
        let directory = TemporaryDirectory("invoice-issue")
        let ledger = try Self.ledger(directory)
        let first = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["b"])
        try ledger.write { tx in
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "top-b2", organisationID: "b", source: .topUp, credits: credits("100"),
                price: Money(minorUnits: 500, currency: .gbp), effectiveAt: instant("2026-11-29T12:00:00Z"),
                references: TransferReferences(revolutOrderID: "ord_b2")))
        }
        let rerun = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["b"])
        #expect(rerun.invoices[0].differsFromLedger)
        #expect(rerun.invoices[0].invoice == first.invoices[0].invoice)
    }

    @Test("the written files agree with the stored invoice: XLSX cells and formulas, CSV lines and totals")
    func files() throws {
        let directory = TemporaryDirectory("invoice-issue")
        let ledger = try Self.ledger(directory)
        let invoice = try InvoiceIssuing.issue(ledger, period: Self.november, organisationIDs: ["a"]).invoices[0]
            .invoice
        let urls = try InvoiceWriter().write(invoice, to: URL(fileURLWithPath: directory.path))
        let sheet = try XLSXFile(url: urls[0]).sheet("Invoice")
        #expect(sheet.cells.values.contains { $0.isText && $0.value == "CR-000001" })
        let formulas = sheet.cells.values.filter { $0.formula != nil }.compactMap(\.number).sorted()
        #expect(formulas == [700.00, 840.00], "subtotal SUM and total formula with exact cached values")
        #expect(sheet.cells.values.contains { $0.number == 140.00 && $0.formula == nil }, "the tax")

        let csv = try #require(CSVReader.parse(String(decoding: try Data(contentsOf: urls[1]), as: UTF8.self)))
        #expect(csv[0].prefix(5) == ["Invoice number", "Issue date", "Due date", "Period", "Buyer"])
        let body = csv.dropFirst()
        #expect(body.allSatisfy { $0[0] == "CR-000001" && $0[1] == "2026-11-30" && $0[2] == "2026-12-30" })
        #expect(body.map { $0[6] } == ["plan-fee", "package", "subtotal", "tax", "total"])
        #expect(body.map { $0[11] } == ["450.00", "250.00", "700.00", "140.00", "840.00"])
        #expect(body.allSatisfy { $0[12] == "GBP" })
        #expect(body.dropFirst().first?[8] == "ord_a1")
    }
}
