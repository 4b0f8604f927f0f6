// Writes an organisation's audit statement: `audit-<org>.xlsx` (sheets Summary and Movements) and one
// CSV per sheet. Like every writer here it never reads the clock, so the same ledger gives byte-identical
// CSV and the same digest; each file appears only when complete.
import Foundation
import Ledger

/// Writes an `AuditStatement` to a directory.
public struct AuditStatementWriter: Sendable {
    public var formats: Set<ReportFormat>

    public init(formats: Set<ReportFormat> = [.xlsx, .csv]) {
        self.formats = formats
    }

    /// `audit-<organisation>`: the files' base name.
    public static func baseName(_ statement: AuditStatement) -> String { "audit-\(statement.organisationID)" }

    /// Writes both sheets; returns the files (XLSX first, then the summary and movements CSVs).
    public func write(_ statement: AuditStatement, to directory: URL) throws -> [URL] {
        let base = Self.baseName(statement)
        var workbook: XLSXWorkbook?
        if formats.contains(.xlsx) {
            let opened = try XLSXWorkbook(
                destination: directory.appendingPathComponent(base + ".xlsx"),
                options: XLSXWorkbookOptions(
                    constantMemory: true,
                    pageSetup: .report(footerTitle: "Credits audit statement \(statement.organisationID)")))
            try opened.setProperties(XLSXDocumentProperties(
                title: "Credits audit statement",
                subject: "\(statement.organisationID) from \(statement.from.iso8601) to \(statement.to.iso8601)",
                comments: "Statement digest \(statement.digest); signature \(statement.signature?.hex ?? AuditStatement.unsignedText)",
                created: statement.to))
            workbook = opened
        }
        var csvFiles: [CSVFileWriter] = []
        func table<Row: ReportRow>(_ sheet: String, file: String, _ rows: RowStream<Row>) throws {
            let xlsx = try workbook?.addTable(name: sheet, columns: Row.columns, rowCount: rows.count)
            let url = directory.appendingPathComponent("\(base)-\(file).csv")
            let csv = formats.contains(.csv) ? try CSVFileWriter(destination: url, columns: Row.columns) : nil
            try rows.write(to: xlsx, csv, rowsName: sheet, directory: directory)
            try xlsx?.finish()
            if let csv { csvFiles.append(csv) }
        }
        try table("Summary", file: "summary", RowStream([AuditSummaryRow(statement)]))
        try table("Movements", file: "movements", RowStream(count: statement.entryCount) { body in
            try statement.forEachEntry { try body(AuditEntryRow($0)) }
        })
        return try ReportFiles.commit(workbook, csvFiles)
    }
}
