// Writes a reconcile plan as a report: `reconciliation.xlsx` (sheets Proposed transfers, Matched,
// Exceptions, Aged) and one CSV per sheet. Like every writer here it never reads the clock, so
// the same stored plan gives byte-identical CSV and identical XLSX cells, and each file appears
// only when complete.
import Foundation
import Ledger

/// Writes a `ReconciliationReport` to a directory.
public struct ReconciliationReportWriter: Sendable {
    public var formats: Set<ReportFormat>
    /// `reconciliation.xlsx`, `reconciliation-<sheet>.csv`.
    public static let baseName = "reconciliation"

    /// The sheet names and CSV file suffixes, in workbook order.
    public static let sheets = [
        (sheet: "Proposed transfers", file: "proposed-transfers"), (sheet: "Matched", file: "matched"),
        (sheet: "Exceptions", file: "exceptions"), (sheet: "Aged", file: "aged"),
    ]

    /// A writer of the given formats (both by default).
    public init(formats: Set<ReportFormat> = [.xlsx, .csv]) {
        self.formats = formats
    }

    /// Writes every sheet; returns the files (XLSX first, then the CSVs in sheet order). Throws
    /// `ReportOutputError`, or whatever reading the proposed transfers' stream throws.
    public func write(_ report: ReconciliationReport, to directory: URL) throws -> [URL] {
        var workbook: XLSXWorkbook?
        if formats.contains(.xlsx) {
            // Constant memory: a night's plan can propose a million deductions.
            let opened = try XLSXWorkbook(destination: directory.appendingPathComponent(Self.baseName + ".xlsx"),
                                          options: XLSXWorkbookOptions(
                                              constantMemory: true,
                                              pageSetup: .report(footerTitle: "Credits reconciliation plan \(report.planID)")))
            try opened.setProperties(XLSXDocumentProperties(
                title: "Credits reconciliation", subject: "Plan \(report.planID) as of \(report.asOf.iso8601)",
                comments: "Status \(report.status), digest \(report.digest)", created: report.createdAt))
            workbook = opened
        }
        var csvFiles: [CSVFileWriter] = []
        func table<Row: ReportRow>(_ index: Int, _ rows: RowStream<Row>) throws {
            let xlsx = try workbook?.addTable(name: Self.sheets[index].sheet, columns: Row.columns,
                                              rowCount: rows.count)
            let url = directory.appendingPathComponent("\(Self.baseName)-\(Self.sheets[index].file).csv")
            let csv = formats.contains(.csv) ? try CSVFileWriter(destination: url, columns: Row.columns) : nil
            try rows.write(to: xlsx, csv, rowsName: Self.sheets[index].sheet, directory: directory)
            try xlsx?.finish()
            if let csv { csvFiles.append(csv) }
        }
        try table(0, report.proposed)
        try table(1, RowStream(report.matched))
        try table(2, RowStream(report.exceptions))
        try table(3, RowStream(report.aged))
        return try ReportFiles.commit(workbook, csvFiles)
    }
}
