import Foundation
import Ledger
import Reports
import Testing
import TestSupport

@Suite("invoices")
struct InvoiceTests {
    static func rate(_ text: String) -> ExactDecimal { try! ExactDecimal.parse(text).get() }

    @Test("tax is the subtotal times the rate, rounded half-even to the minor unit", arguments: [
        (1234, "20", 247),  // 246.8 -> 247
        (1225, "10", 122),  // 122.5 -> 122 (even)
        (1235, "10", 124),  // 123.5 -> 124 (even)
        (-1225, "10", -122),  // symmetric for credit notes
        (100_000, "8.875", 8875),
        (1, "0", 0),
    ])
    func taxRounding(subtotal: Int64, rate: String, tax: Int64) throws {
        let amount = Money(minorUnits: subtotal, currency: .gbp)
        #expect(try Invoice.tax(on: amount, ratePercent: Self.rate(rate)).minorUnits == tax)
    }

    @Test("rates outside 0...100 percent or with more than 6 decimals are refused")
    func badRates() {
        let amount = Money(minorUnits: 100, currency: .gbp)
        #expect(throws: InvoiceError.taxRateOutOfRange) { try Invoice.tax(on: amount, ratePercent: Self.rate("100.5")) }
        #expect(throws: InvoiceError.taxRateOutOfRange) { try Invoice.tax(on: amount, ratePercent: Self.rate("-1")) }
        #expect(throws: InvoiceError.taxRateOutOfRange) {
            try Invoice.tax(on: amount, ratePercent: Self.rate("0.0000001"))
        }
    }

    static func invoice() throws -> Invoice {
        let period = ReportPeriod.month(year: 2026, month: 11)
        return try Invoice(
            number: "INV/2026/000042", issueDate: LocalDate(year: 2026, month: 12, day: 1)!,
            dueDate: LocalDate(year: 2026, month: 12, day: 31)!, period: period,
            seller: InvoiceParty(name: "Credits Ltd", addressLines: ["1 High St", "London"], taxID: "GB123"),
            buyer: InvoiceParty(name: "=Agency A", addressLines: ["2 Low Rd"], email: "ap@agency.example"),
            currency: .gbp,
            lines: [
                InvoiceLine(kind: .planFee, description: "Plan Standard, 2026-11", reference: "plan-2026-11",
                            date: period.firstDay, credits: Credits(10000), amount: Fixtures.gbp(45000)),
                InvoiceLine(kind: .package, description: "10,000 credits", reference: "ord_6516e1a4",
                            date: LocalDate(year: 2026, month: 11, day: 14)!, credits: Credits(10000),
                            amount: Fixtures.gbp(45000)),
                InvoiceLine(kind: .adjustment, description: "-Goodwill credit", amount: Fixtures.gbp(-1001)),
            ],
            taxRatePercent: rate("20"),
            appendix: [
                InvoiceAppendixRow(team: "alpha", investigation: "Op A", eventCount: 4,
                                   consumption: Fixtures.amount("100.5", 452)),
                InvoiceAppendixRow(team: "@beta", investigation: "", eventCount: 1,
                                   consumption: Fixtures.amount("20", 90)),
            ])
    }

    @Test("subtotal, tax and total are exact")
    func totals() throws {
        let invoice = try Self.invoice()
        #expect(invoice.subtotal.minorUnits == 88999)
        #expect(invoice.tax.minorUnits == 17800)  // 17799.8 -> 17800
        #expect(invoice.total.minorUnits == 106_799)
    }

    @Test("a line in another currency is refused")
    func currencyMismatch() {
        #expect(throws: InvoiceError.lineCurrencyMustMatchInvoice(line: 0)) {
            try Invoice(
                number: "1", issueDate: LocalDate(year: 2026, month: 12, day: 1)!,
                dueDate: LocalDate(year: 2026, month: 12, day: 1)!, period: .month(year: 2026, month: 11),
                seller: InvoiceParty(name: "S"), buyer: InvoiceParty(name: "B"), currency: .gbp,
                lines: [InvoiceLine(kind: .package, description: "x", amount: Money(minorUnits: 1, currency: .eur))],
                taxRatePercent: Self.rate("20"))
        }
    }

    @Test("the invoice workbook has the header block, lines, formulas with cached totals and an appendix")
    func workbook() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let urls = try InvoiceWriter().write(try Self.invoice(), to: scratch.url)
        #expect(urls.map(\.lastPathComponent) == [
            "invoice-INV-2026-000042.xlsx", "invoice-INV-2026-000042.csv", "invoice-INV-2026-000042-appendix.csv",
        ])
        let file = try XLSXFile(url: urls[0])
        #expect(file.sheetNames == ["Invoice", "Appendix"])
        let sheet = try file.sheet("Invoice")
        #expect(sheet["C2"]?.value == "INV/2026/000042")
        #expect(sheet["C3"]?.number == XLSXFile.serial(year: 2026, month: 12, day: 1))
        #expect(sheet["C3"]?.numberFormat == "yyyy-mm-dd")
        #expect(sheet["C7"]?.number == 20)
        #expect(sheet["D10"]?.value == "=Agency A" && sheet["D10"]?.isText == true)
        // Seller has 4 printed lines (rows 10-13), so the lines header is row 15 and lines 16-18.
        #expect(sheet["A15"]?.value == "Line" && sheet["A15"]?.isBold == true)
        #expect(sheet.autoFilterReference == "A15:G18")
        #expect(sheet["D17"]?.value == "ord_6516e1a4")
        #expect(sheet["C18"]?.value == "-Goodwill credit" && sheet["C18"]?.isText == true)
        #expect(sheet["G19"]?.formula == "SUM(G16:G18)" && sheet["G19"]?.number == 889.99)
        #expect(sheet["G20"]?.formula == nil && sheet["G20"]?.number == 178)
        #expect(sheet["G21"]?.formula == "G19+G20" && sheet["G21"]?.number == 1067.99)
        #expect(sheet["G21"]?.numberFormat == "\"£\"#,##0.00")
        let appendix = try file.sheet("Appendix")
        #expect(appendix["B2"]?.value == "Op A" && appendix["A3"]?.value == "@beta")
        #expect(appendix["D4"]?.formula == "SUM(D2:D3)" && appendix["D4"]?.number == 120.5)
        #expect(try file.coreProperties()["title"] == "Invoice INV/2026/000042")
    }

    @Test("the invoice prints on one portrait A4 page; the appendix one page wide after it")
    func printsOnOnePage() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try XLSXFile(url: try InvoiceWriter().write(try Self.invoice(), to: scratch.url)[0])
        var setups: [String: [String: String]] = [:]
        for (name, path) in file.sheets {
            let sheet = try XMLElementNode.parse(Data(try #require(try file.part(path)).utf8))
            #expect(sheet.first("pageSetUpPr")?.attributes["fitToPage"] == "1")
            #expect(sheet.first("oddFooter")?.allText == "&LInvoice INV/2026/000042&C&A&RPage &P of &N")
            setups[name] = sheet.first("pageSetup")?.attributes
        }
        #expect(setups["Invoice"]?["paperSize"] == "9" && setups["Invoice"]?["orientation"] == "portrait")
        #expect((setups["Invoice"]?["fitToHeight"] ?? "1") == "1" && (setups["Invoice"]?["fitToWidth"] ?? "1") == "1")
        #expect(setups["Appendix"]?["orientation"] == "portrait" && setups["Appendix"]?["fitToHeight"] == "0")
        // The totals' labels are right-aligned and read leftwards: the Credits column stays narrow.
        let sheet = try file.sheet("Invoice")
        #expect(sheet["F20"]?.value.hasPrefix("Tax") == true)
        #expect(sheet.columnWidths[6].map { $0 < 20 } == true, "\(sheet.columnWidths)")
    }

    @Test("the invoice CSV carries lines then subtotal, tax and total rows")
    func csv() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let urls = try InvoiceWriter(formats: [.csv]).write(try Self.invoice(), to: scratch.url)
        #expect(urls.count == 2)
        let records = try #require(CSVReader.parse(try String(contentsOf: urls[0], encoding: .utf8)))
        #expect(records[0] == [
            "Invoice number", "Issue date", "Due date", "Period", "Buyer", "Line", "Kind", "Description", "Reference",
            "Date", "Credits", "Amount", "Amount currency",
        ])
        #expect(records[1] == [
            "INV/2026/000042", "2026-12-01", "2026-12-31", "2026-11", "'=Agency A", "1", "plan-fee",
            "Plan Standard, 2026-11", "plan-2026-11", "2026-11-01", "10000", "450.00", "GBP",
        ])
        #expect(records[3][7] == "'-Goodwill credit" && records[3][11] == "-10.01")
        #expect(records.suffix(3).map { $0[6] } == ["subtotal", "tax", "total"])
        #expect(records.suffix(3).map { $0[11] } == ["889.99", "178.00", "1067.99"])
        let appendix = try #require(CSVReader.parse(try String(contentsOf: urls[1], encoding: .utf8)))
        #expect(appendix[2] == ["'@beta", "", "1", "20", "0.90", "GBP"])
    }
}
