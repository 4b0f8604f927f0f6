// Writes one invoice: an XLSX workbook (an "Invoice" sheet and an "Appendix" sheet) and two CSV
// files (the lines with subtotal, tax and total rows; the appendix).
//
// The invoice is small, so its workbook is written in normal (not constant-memory) mode, which
// lets the header block be written around the lines table in any order.
import Foundation
import Ledger

/// Writes an `Invoice` to a directory as `invoice-<number>.xlsx`, `invoice-<number>.csv` and
/// `invoice-<number>-appendix.csv`.
public struct InvoiceWriter: Sendable {
    public var formats: Set<ReportFormat>

    public init(formats: Set<ReportFormat> = [.xlsx, .csv]) {
        self.formats = formats
    }

    /// The columns of the invoice lines table (XLSX) and, after the invoice fields, of the CSV.
    /// Widths come from the lines written (`XLSXColumnWidths`); the totals' labels are right-aligned
    /// and read into the empty cells on their left, so they do not widen the Credits column.
    static let lineColumns = [
        ReportColumn("Line", .integer), ReportColumn("Kind", .text), ReportColumn("Description", .text),
        ReportColumn("Reference", .text), ReportColumn("Date", .date), ReportColumn("Credits", .credits),
        ReportColumn("Amount", .money),
    ]

    static let csvColumns = [
        ReportColumn("Invoice number", .text), ReportColumn("Issue date", .date), ReportColumn("Due date", .date),
        ReportColumn("Period", .text), ReportColumn("Buyer", .text),
    ] + lineColumns

    /// `invoice-INV-2026-000042`: the number with anything but letters, digits, `.`, `_`, `-` replaced.
    public static func baseName(for invoice: Invoice) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        return "invoice-" + String(invoice.number.map { allowed.contains($0) ? $0 : "-" })
    }

    /// Writes the files; returns them (XLSX first).
    public func write(_ invoice: Invoice, to directory: URL) throws(ReportOutputError) -> [URL] {
        let base = directory.appendingPathComponent(Self.baseName(for: invoice))
        let workbook = formats.contains(.xlsx)
            ? try Self.workbook(invoice, destination: base.appendingPathExtension("xlsx")) : nil
        var csvFiles: [CSVFileWriter] = []
        if formats.contains(.csv) {
            csvFiles.append(try Self.linesCSV(invoice, destination: base.appendingPathExtension("csv")))
            let appendix = URL(fileURLWithPath: base.path + "-appendix.csv")
            let csv = try CSVFileWriter(destination: appendix, columns: InvoiceAppendixRow.columns)
            for row in invoice.appendix { try csv.append(row.cells) }
            csvFiles.append(csv)
        }
        return try ReportFiles.commit(workbook, csvFiles)
    }

    static func lineCells(_ line: InvoiceLine, number: Int) -> [ReportCell] {
        [.integer(Int64(number)), .text(line.kind.rawValue), .text(line.description),
         line.reference.map(ReportCell.text) ?? .empty, line.date.map(ReportCell.date) ?? .empty,
         line.credits.map(ReportCell.credits) ?? .empty, .money(line.amount)]
    }

    static func linesCSV(_ invoice: Invoice, destination: URL) throws(ReportOutputError) -> CSVFileWriter {
        let csv = try CSVFileWriter(destination: destination, columns: csvColumns)
        let fields: [ReportCell] = [.text(invoice.number), .date(invoice.issueDate), .date(invoice.dueDate),
                                    .text(invoice.period.label), .text(invoice.buyer.name)]
        for (index, line) in invoice.lines.enumerated() {
            try csv.append(fields + lineCells(line, number: index + 1))
        }
        let totals: [(String, String, Money)] = [
            ("subtotal", "Subtotal", invoice.subtotal),
            ("tax", "Tax at \(invoice.taxRateText) of the subtotal, rounded half-even", invoice.tax),
            ("total", "Total", invoice.total),
        ]
        for (kind, description, amount) in totals {
            try csv.append(fields + [.empty, .text(kind), .text(description), .empty, .empty, .empty, .money(amount)])
        }
        return csv
    }

    static func workbook(_ invoice: Invoice, destination: URL) throws(ReportOutputError) -> XLSXWorkbook {
        let workbook = try XLSXWorkbook(destination: destination, options: XLSXWorkbookOptions(constantMemory: false))
        try workbook.setProperties(XLSXDocumentProperties(
            title: "Invoice \(invoice.number)", subject: "Period \(invoice.period)", company: invoice.seller.name,
            comments: "Buyer: \(invoice.buyer.name)", created: invoice.issueDate.startInstant(in: .gmt)))
        let partyLines = max(invoice.seller.printedLines.count, invoice.buyer.printedLines.count)
        let headerRow = 9 + partyLines + 1
        // The invoice itself is one portrait A4 page (header, parties, lines, totals); the appendix
        // follows on its own pages, one page wide.
        let footer = "Invoice \(invoice.number)"
        let table = try workbook.addTable(name: "Invoice", columns: lineColumns, rowCount: invoice.lines.count,
                                          headerRow: headerRow, pageSetup: .singlePage(footerTitle: footer))
        for (index, line) in invoice.lines.enumerated() {
            try table.append(lineCells(line, number: index + 1))
        }
        try table.finish()
        try writeHeaderBlock(invoice, sheet: table.firstSheet)
        try writeTotals(invoice, sheet: table.firstSheet, firstLineRow: headerRow + 1)
        let appendix = try workbook.addTable(
            name: "Appendix", columns: InvoiceAppendixRow.columns, rowCount: invoice.appendix.count,
            pageSetup: XLSXPageSetup(orientation: .portrait, footerTitle: footer))
        for row in invoice.appendix { try appendix.append(row.cells) }
        try appendix.finish()
        return workbook
    }

    static func writeHeaderBlock(_ invoice: Invoice, sheet: XLSXWorksheet) throws(ReportOutputError) {
        try sheet.write(.text("Invoice"), row: 0, column: 0, bold: true)
        let fields: [(String, ReportCell)] = [
            ("Invoice number", .text(invoice.number)), ("Issue date", .date(invoice.issueDate)),
            ("Due date", .date(invoice.dueDate)), ("Period", .text(invoice.period.description)),
            ("Currency", .text(invoice.currency.code)), ("Tax rate (%)", .decimal(invoice.taxRatePercent)),
        ]
        for (offset, (label, value)) in fields.enumerated() {
            try sheet.write(.text(label), row: 1 + offset, column: 0, bold: true)
            try sheet.write(value, row: 1 + offset, column: 2)
        }
        try sheet.write(.text("Seller"), row: 8, column: 0, bold: true)
        try sheet.write(.text("Buyer"), row: 8, column: 3, bold: true)
        for (offset, line) in invoice.seller.printedLines.enumerated() {
            try sheet.write(.text(line), row: 9 + offset, column: 0)
        }
        for (offset, line) in invoice.buyer.printedLines.enumerated() {
            try sheet.write(.text(line), row: 9 + offset, column: 3)
        }
    }

    /// Subtotal as a SUM over the amounts, tax as the stated half-even value, total as their sum.
    static func writeTotals(_ invoice: Invoice, sheet: XLSXWorksheet, firstLineRow: Int) throws(ReportOutputError) {
        let amountColumn = lineColumns.count - 1
        let letter = XLSXTable.columnLetters(amountColumn)
        let subtotalRow = firstLineRow + invoice.lines.count
        let (taxRow, totalRow) = (subtotalRow + 1, subtotalRow + 2)
        try sheet.writeLabel("Subtotal", row: subtotalRow, column: amountColumn - 1)
        if invoice.lines.isEmpty {
            try sheet.write(.money(invoice.subtotal), row: subtotalRow, column: amountColumn, bold: true)
        } else {
            let range = "\(letter)\(firstLineRow + 1):\(letter)\(subtotalRow)"
            try sheet.writeFormula("=SUM(\(range))", cachedValue: .money(invoice.subtotal), row: subtotalRow,
                                   column: amountColumn, bold: true)
        }
        try sheet.writeLabel("Tax \(invoice.taxRateText) (half-even on the subtotal)", row: taxRow,
                             column: amountColumn - 1)
        try sheet.write(.money(invoice.tax), row: taxRow, column: amountColumn, bold: true)
        try sheet.writeLabel("Total", row: totalRow, column: amountColumn - 1)
        let formula = "=\(letter)\(subtotalRow + 1)+\(letter)\(taxRow + 1)"
        try sheet.writeFormula(formula, cachedValue: .money(invoice.total), row: totalRow, column: amountColumn,
                               bold: true)
    }
}
