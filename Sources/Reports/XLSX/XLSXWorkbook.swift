import CXLSXWriter
import Foundation
import Ledger

/// Document properties shown in Excel's File > Info. Nothing here reads the clock: `created` is
/// passed in, so the same inputs give the same properties.
public struct XLSXDocumentProperties: Sendable, Hashable {
    public var title: String
    /// The subject; reports put the period here (`Credits report 2026-11`).
    public var subject: String
    public var author: String
    public var company: String
    /// Free comments, e.g. "Generated at 2026-12-01T02:00:00.000Z by credits report".
    public var comments: String
    public var created: Instant

    public init(
        title: String, subject: String, author: String = "Credits", company: String = "",
        comments: String = "", created: Instant
    ) {
        self.title = title
        self.subject = subject
        self.author = author
        self.company = company
        self.comments = comments
        self.created = created
    }
}

/// Options for a workbook.
public struct XLSXWorkbookOptions: Sendable, Hashable {
    /// libxlsxwriter's constant-memory mode: each row is flushed to disk when the next begins, so
    /// memory stays flat for a million rows. Rows must then be written strictly in order, which the
    /// table API guarantees.
    public var constantMemory: Bool
    /// Rows per sheet including the header (Excel's limit is 1,048,576). Tests inject a small number.
    public var rowsPerSheetMax: Int

    /// How every table's sheets print unless `addTable` is given another setup.
    public var pageSetup: XLSXPageSetup

    /// Excel's hard limit on rows in one worksheet.
    public static let excelRowsPerSheetMax = 1_048_576

    public init(
        constantMemory: Bool = false, rowsPerSheetMax: Int = XLSXWorkbookOptions.excelRowsPerSheetMax,
        pageSetup: XLSXPageSetup = .report(footerTitle: "")
    ) {
        precondition(rowsPerSheetMax >= 3 && rowsPerSheetMax <= Self.excelRowsPerSheetMax, "rowsPerSheetMax")
        self.constantMemory = constantMemory
        self.rowsPerSheetMax = rowsPerSheetMax
        self.pageSetup = pageSetup
    }
}

/// A safe owner of one libxlsxwriter workbook that becomes a file only on a successful `commit()`.
///
/// The workbook is written to a temporary file beside `destination` and renamed into place after
/// `workbook_close` succeeds and the file is synced; on any error, or if the workbook is dropped
/// without `commit()`, the temporary file is removed. `workbook_close` (which also frees all the
/// library's memory) is called exactly once, by `commit()` or by `deinit`.
///
/// ```swift
/// let workbook = try XLSXWorkbook(destination: dir.appending(path: "report.xlsx"))
/// workbook.setProperties(XLSXDocumentProperties(title: "Credits report", subject: "2026-11", created: now))
/// let table = try workbook.addTable(name: "Summary", columns: columns, rowCount: rows.count)
/// for row in rows { try table.append(row) }
/// try table.finish()
/// try workbook.commit()
/// ```
public final class XLSXWorkbook {
    let handle: UnsafeMutablePointer<lxw_workbook>
    let options: XLSXWorkbookOptions
    private let file: AtomicFile
    private var isClosed = false
    private(set) var formats: XLSXFormats!
    private var sheetNames: Set<String> = []

    /// The final path of the workbook.
    public var destination: URL { file.destination }

    /// Creates the temporary file now (so an unwritable directory fails before any rows are built).
    public init(destination: URL, options: XLSXWorkbookOptions = XLSXWorkbookOptions()) throws(ReportOutputError) {
        let file = try AtomicFile(destination: destination)
        var libraryOptions = lxw_workbook_options()
        libraryOptions.constant_memory = options.constantMemory ? 1 : 0
        libraryOptions.use_zip64 = 0
        guard let handle = workbook_new_opt(file.temporaryPath, &libraryOptions) else {
            throw ReportOutputError(.xlsxLibraryFailed, path: destination.path, message: "workbook_new_opt failed")
        }
        self.file = file
        self.handle = handle
        self.options = options
        self.formats = XLSXFormats(workbook: handle)
    }

    deinit {
        // Never committed: let the library free itself (its only way), then drop the file.
        if !isClosed { workbook_close(handle) }
        file.discard()
    }

    /// Sets the document properties (title, subject with the period, author, created date).
    public func setProperties(_ properties: XLSXDocumentProperties) throws(ReportOutputError) {
        precondition(!isClosed, "workbook already closed")
        let strings = [properties.title, properties.subject, properties.author, properties.company,
                       properties.comments].map { (text: String) in strdup(text) }
        defer { strings.forEach { free($0) } }
        var libraryProperties = lxw_doc_properties()
        libraryProperties.title = strings[0]
        libraryProperties.subject = strings[1]
        libraryProperties.author = strings[2]
        libraryProperties.company = strings[3]
        libraryProperties.comments = strings[4]
        // Whole seconds: the file format stores no more. Zero would make the library read the clock.
        libraryProperties.created = time_t(max(1, properties.created.millisecondsSinceEpoch / 1000))
        try check(workbook_set_properties(handle, &libraryProperties), "workbook_set_properties")
    }

    /// Adds a table (one or more sheets, split at `options.rowsPerSheetMax`) of exactly `rowCount`
    /// data rows. The row count must be known first because the autofilter range is written before
    /// the rows in constant-memory mode. Its sheets print as `pageSetup` (default: the workbook's).
    public func addTable(
        name: String, columns: [ReportColumn], rowCount: Int, headerRow: Int = 0, pageSetup: XLSXPageSetup? = nil
    ) throws(ReportOutputError) -> XLSXTable {
        precondition(!isClosed, "workbook already closed")
        return try XLSXTable(workbook: self, name: name, columns: columns, rowCount: rowCount, headerRow: headerRow,
                             pageSetup: pageSetup ?? options.pageSetup)
    }

    /// Adds a plain worksheet for free-form layouts (the invoice header block).
    public func addWorksheet(name: String) throws(ReportOutputError) -> XLSXWorksheet {
        XLSXWorksheet(workbook: self, sheet: try addSheet(name: name))
    }

    func addSheet(name: String) throws(ReportOutputError) -> UnsafeMutablePointer<lxw_worksheet> {
        try check(workbook_validate_sheet_name(handle, name), "sheet name \(name)")
        guard sheetNames.insert(name.lowercased()).inserted, let sheet = workbook_add_worksheet(handle, name) else {
            throw ReportOutputError(.xlsxLibraryFailed, path: destination.path, message: "cannot add sheet \(name)")
        }
        return sheet
    }

    /// Closes the workbook (exactly once), syncs it and renames it into place.
    public func commit() throws(ReportOutputError) {
        precondition(!isClosed, "workbook committed twice")
        isClosed = true
        let error = workbook_close(handle)
        guard error == LXW_NO_ERROR else {
            file.discard()
            throw libraryError(error, "workbook_close")
        }
        try file.commit()
    }

    /// Throws the library's error for `operation`. The description is built only on failure: this
    /// runs for every cell of a million-row sheet.
    func check(_ error: lxw_error, _ operation: @autoclosure () -> String) throws(ReportOutputError) {
        guard error != LXW_NO_ERROR else { return }
        throw libraryError(error, operation())
    }

    private func libraryError(_ error: lxw_error, _ operation: String) -> ReportOutputError {
        let message = String(cString: lxw_strerror(error))
        let code: ReportOutputError.Code = error == LXW_ERROR_CREATING_XLSX_FILE ? .ioFailed : .xlsxLibraryFailed
        return ReportOutputError(code, path: destination.path, message: "\(operation): \(message)")
    }
}
