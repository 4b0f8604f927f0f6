// Writes one period report: an XLSX workbook with a sheet per table and one CSV file per table.
//
// Goal: analysts open the workbook as it is (typed numbers, dates, totals, filters, frozen
// headers, a chart), and scripts read the CSVs. Method: every table is written in one pass to both
// formats, rows in the order given (the queries sort them), so the large transaction detail is
// read once. Guarantees: nothing reads the clock (`generatedAt` is passed in), so the same report
// value gives byte-identical CSV and identical XLSX cells; each file appears only when complete.
import Foundation
import Ledger

/// The output formats of a report.
public enum ReportFormat: String, Sendable, Hashable, CaseIterable {
    case xlsx, csv
}

/// Writes a `PeriodReport` (and optionally its transaction detail) to a directory.
///
/// ```swift
/// let writer = PeriodReportWriter(baseName: "credits-report-2026-11")
/// let files = try writer.write(report, details: TransferDetailStream(count: n) { body in ... }, to: outDir)
/// ```
public struct PeriodReportWriter: Sendable {
    public var baseName: String
    public var formats: Set<ReportFormat>
    /// Constant-memory mode is on by default: the detail sheet may hold a million rows.
    public var workbookOptions: XLSXWorkbookOptions
    /// The daily trend chart draws at most this many organisations (the first in row order).
    public static let chartOrganisationsMax = 8

    public init(
        baseName: String, formats: Set<ReportFormat> = [.xlsx, .csv],
        workbookOptions: XLSXWorkbookOptions = XLSXWorkbookOptions(constantMemory: true)
    ) {
        self.baseName = baseName
        self.formats = formats
        self.workbookOptions = workbookOptions
    }

    /// The sheet names and CSV file suffixes, in workbook order.
    public static let sheets = [
        (sheet: "Summary", file: "summary"), (sheet: "By team", file: "by-team"),
        (sheet: "By investigation", file: "by-investigation"), (sheet: "By operation", file: "by-operation"),
        (sheet: "Daily trend", file: "daily-trend"), (sheet: "Unusual consumption", file: "unusual-consumption"),
        (sheet: "Reconciliation exceptions", file: "reconciliation-exceptions"),
        (sheet: "Transactions", file: "transactions"),
    ]

    /// Writes every table; returns the files written (XLSX first, then the CSVs in sheet order).
    /// Throws `ReportOutputError`, or whatever `details.forEach` throws; on error no new file of
    /// this call is left half-written (files already renamed into place stay, and are complete).
    public func write(_ report: PeriodReport, details: TransferDetailStream?, to directory: URL) throws -> [URL] {
        var session = try ReportSession(writer: self, directory: directory, report: report)
        try session.table(0, report.summary)
        try session.table(1, report.byTeam)
        try session.table(2, report.byInvestigation)
        try session.table(3, report.byOperation)
        try session.table(4, report.dailyTrend) { (table) throws(ReportOutputError) in
            try table.addLineChart(title: "Daily consumption (credits)", yAxisTitle: "Credits",
                                   series: Self.dailySeries(report.dailyTrend),
                                   categoryFormat: XLSXFormats.chartDayFormat, valueFormat: XLSXFormats.integerFormat)
        }
        try session.table(5, report.unusualConsumption)
        try session.table(6, report.reconciliationExceptions)
        if let details { try session.details(details) }
        return try session.commit()
    }

    /// One line per organisation over its contiguous run of rows.
    static func dailySeries(_ rows: [DailyUsage]) -> [XLSXChartSeries] {
        var series: [XLSXChartSeries] = []
        var start = 0
        for index in rows.indices where index == rows.count - 1 || rows[index + 1].organisationID
            != rows[index].organisationID
        {
            series.append(XLSXChartSeries(name: rows[index].organisationID, categoryColumn: 1, valueColumn: 3,
                                          rows: start...index))
            start = index + 1
        }
        return Array(series.prefix(chartOrganisationsMax))
    }
}

/// The open files of one `PeriodReportWriter.write` call.
private struct ReportSession {
    let writer: PeriodReportWriter
    let directory: URL
    let workbook: XLSXWorkbook?
    var csvFiles: [CSVFileWriter] = []

    init(writer: PeriodReportWriter, directory: URL, report: PeriodReport) throws(ReportOutputError) {
        self.writer = writer
        self.directory = directory
        guard writer.formats.contains(.xlsx) else {
            workbook = nil
            return
        }
        var options = writer.workbookOptions
        options.pageSetup.footerTitle = "Credits report \(report.period.label)"
        let workbook = try XLSXWorkbook(destination: directory.appendingPathComponent(writer.baseName + ".xlsx"),
                                        options: options)
        try workbook.setProperties(XLSXDocumentProperties(
            title: "Credits report", subject: "Period \(report.period)",
            comments: "Generated at \(report.generatedAt.iso8601)", created: report.generatedAt))
        self.workbook = workbook
    }

    func csvURL(_ index: Int) -> URL {
        directory.appendingPathComponent("\(writer.baseName)-\(PeriodReportWriter.sheets[index].file).csv")
    }

    mutating func table<Row: ReportRow>(
        _ index: Int, _ rows: [Row], beforeRows: (XLSXTable) throws(ReportOutputError) -> Void = { _ in }
    ) throws(ReportOutputError) {
        let sheet = PeriodReportWriter.sheets[index].sheet
        let xlsx = try workbook?.addTable(name: sheet, columns: Row.columns, rowCount: rows.count)
        if let xlsx { try beforeRows(xlsx) }
        let csv = writer.formats.contains(.csv) ? try CSVFileWriter(destination: csvURL(index), columns: Row.columns)
            : nil
        for row in rows {
            let cells = row.cells
            try xlsx?.append(cells)
            try csv?.append(cells)
        }
        try xlsx?.finish()
        if let csv { csvFiles.append(csv) }
    }

    mutating func details(_ stream: TransferDetailStream) throws {
        let xlsx = try workbook?.addTable(name: "Transactions", columns: TransferDetail.columns, rowCount: stream.count)
        let url = csvURL(PeriodReportWriter.sheets.count - 1)
        let csv = writer.formats.contains(.csv) ? try CSVFileWriter(destination: url, columns: TransferDetail.columns)
            : nil
        try stream.write(to: xlsx, csv, rowsName: "transfer", directory: directory)
        try xlsx?.finish()
        if let csv { csvFiles.append(csv) }
    }

    func commit() throws(ReportOutputError) -> [URL] {
        return try ReportFiles.commit(workbook, csvFiles)
    }
}
