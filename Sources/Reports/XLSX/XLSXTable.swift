import CXLSXWriter
import Foundation
import Ledger

/// Excel limits a cell's text to 32,767 characters; longer free text is cut there.
let xlsxCellTextCharactersMax = 32_767

/// A plain worksheet for free-form layouts: cells at given positions, column widths and formulas.
public final class XLSXWorksheet {
    let workbook: XLSXWorkbook
    let sheet: UnsafeMutablePointer<lxw_worksheet>

    init(workbook: XLSXWorkbook, sheet: UnsafeMutablePointer<lxw_worksheet>) {
        self.workbook = workbook
        self.sheet = sheet
    }

    /// Writes a typed cell (text as a string, never a formula). `bold` for labels and totals.
    public func write(_ cell: ReportCell, row: Int, column: Int, bold: Bool = false) throws(ReportOutputError) {
        let format = workbook.formats.format(for: cell, bold: bold)
        try writeCell(cell, row: row, column: column, format: format)
    }

    /// Writes a bold label aligned right, so a long one reads into the empty cells on its left
    /// (totals under a table) instead of widening its column.
    public func writeLabel(_ text: String, row: Int, column: Int) throws(ReportOutputError) {
        try writeCell(.text(text), row: row, column: column, format: workbook.formats.rightAlignedLabel)
    }

    /// Writes a formula (without checking it) with the value readers show before recalculating.
    public func writeFormula(
        _ formula: String, cachedValue: ReportCell, row: Int, column: Int, bold: Bool = false
    ) throws(ReportOutputError) {
        guard let value = XLSXNumber.value(of: cachedValue) else {
            preconditionFailure("a formula's cached value must be numeric")
        }
        let format = workbook.formats.format(for: cachedValue, bold: bold)
        let error = worksheet_write_formula_num(sheet, lxw_row_t(row), lxw_col_t(column), formula, format, value)
        try workbook.check(error, "write formula at row \(row + 1)")
    }

    /// Sets the width of one column in Excel character units.
    public func setColumnWidth(_ column: Int, _ width: Double) throws(ReportOutputError) {
        try workbook.check(
            worksheet_set_column(sheet, lxw_col_t(column), lxw_col_t(column), width, nil), "set column width")
    }

    func writeHeader(_ titles: [String], row: Int) throws(ReportOutputError) {
        for (column, title) in titles.enumerated() {
            try writeCell(.text(title), row: row, column: column, format: workbook.formats.header)
        }
    }

    func writeCell(
        _ cell: ReportCell, row: Int, column: Int, format: UnsafeMutablePointer<lxw_format>?
    ) throws(ReportOutputError) {
        let (r, c) = (lxw_row_t(row), lxw_col_t(column))
        let error: lxw_error
        switch cell {
        case .empty:
            return
        case .text(let text):
            // Always a string cell: text that starts with = + - @ can never become a formula.
            let fits = text.utf8.count <= xlsxCellTextCharactersMax
                || text.unicodeScalars.count <= xlsxCellTextCharactersMax
            let clipped = fits ? text
                : String(String.UnicodeScalarView(text.unicodeScalars.prefix(xlsxCellTextCharactersMax)))
            error = worksheet_write_string(sheet, r, c, clipped, format)
        default:
            error = worksheet_write_number(sheet, r, c, XLSXNumber.value(of: cell)!, format)
        }
        try workbook.check(error, "write cell at row \(row + 1), column \(column + 1)")
    }
}

/// One line in a line chart: `valueColumn` over `categoryColumn` for data rows `rows` (0-based
/// indexes into the table's data rows).
public struct XLSXChartSeries: Sendable, Hashable {
    public var name: String
    public var categoryColumn: Int
    public var valueColumn: Int
    public var rows: ClosedRange<Int>

    public init(name: String, categoryColumn: Int, valueColumn: Int, rows: ClosedRange<Int>) {
        self.name = name
        self.categoryColumn = categoryColumn
        self.valueColumn = valueColumn
        self.rows = rows
    }
}

/// A table written row by row: a bold, frozen header with an autofilter, typed rows, and
/// optionally a totals row of `SUM` formulas whose cached values are the exact sums. Columns are
/// as wide as the longest value written (`XLSXColumnWidths`), and every sheet prints as its
/// `XLSXPageSetup` says (by default landscape, one page wide, the header row on every page).
///
/// Rows beyond `rowsPerSheetMax` continue on a new sheet named `Name (2)`, `Name (3)`, ..., each
/// with its own header. The totals row (if any column has a total) goes on the last sheet and sums
/// every part. Rows are written strictly in order, as constant-memory mode requires.
public final class XLSXTable {
    let workbook: XLSXWorkbook
    let name: String
    let columns: [ReportColumn]
    let rowCount: Int
    let headerRow: Int
    /// Data rows per sheet: the sheet limit less the header row (and the totals row if any).
    let rowsPerPart: Int
    let pageSetup: XLSXPageSetup
    private var sums: ColumnSums
    private var widths: XLSXColumnWidths
    private var parts: [(name: String, sheet: XLSXWorksheet, rows: Int)] = []
    private var written = 0
    private var writtenInPart = 0
    private var isFinished = false

    /// The names of the sheets written so far (one per part).
    public var sheetNames: [String] { parts.map(\.name) }

    init(
        workbook: XLSXWorkbook, name: String, columns: [ReportColumn], rowCount: Int, headerRow: Int,
        pageSetup: XLSXPageSetup
    ) throws(ReportOutputError) {
        precondition(!columns.isEmpty && rowCount >= 0 && headerRow >= 0, "invalid table shape")
        self.workbook = workbook
        self.name = name
        self.columns = columns
        self.rowCount = rowCount
        self.headerRow = headerRow
        self.pageSetup = pageSetup
        self.sums = ColumnSums(columns: columns)
        self.widths = XLSXColumnWidths(columns: columns)
        let reserved = headerRow + 1 + (sums.hasTotals ? 1 : 0)
        self.rowsPerPart = workbook.options.rowsPerSheetMax - reserved
        precondition(rowsPerPart > 0, "no room for data rows")
        try beginPart()
    }

    /// The first sheet, for writing above the header (titles) when `headerRow > 0`.
    public var firstSheet: XLSXWorksheet { parts[0].sheet }

    /// The number of data rows on the current part: all that remain, up to the part's capacity.
    private var rowsInNextPart: Int { min(rowsPerPart, rowCount - written) }

    private func beginPart() throws(ReportOutputError) {
        let partName = parts.isEmpty ? name : Self.partName(name, number: parts.count + 1)
        let sheet = XLSXWorksheet(workbook: workbook, sheet: try workbook.addSheet(name: partName))
        let rows = rowsInNextPart
        // Freeze, autofilter and page setup: set before any row (constant-memory mode). The
        // widths are set by `finish()`, once every value has been measured; the library keeps
        // column settings apart from the rows and writes them when the workbook closes.
        try workbook.check(pageSetup.apply(to: sheet.sheet, headerRow: headerRow), "page setup of \(partName)")
        worksheet_freeze_panes(sheet.sheet, lxw_row_t(headerRow + 1), 0)
        let lastRow = lxw_row_t(headerRow + rows)
        try workbook.check(
            worksheet_autofilter(sheet.sheet, lxw_row_t(headerRow), 0, lastRow, lxw_col_t(columns.count - 1)),
            "autofilter")
        let titleLines = columns.indices.map(widths.titleLines).max() ?? 1
        if titleLines > 1 {
            try workbook.check(
                worksheet_set_row(sheet.sheet, lxw_row_t(headerRow), Self.lineHeight * Double(titleLines), nil),
                "header row height")
        }
        try sheet.writeHeader(columns.map(\.title), row: headerRow)
        parts.append((partName, sheet, rows))
        writtenInPart = 0
    }

    /// The height in points of one line of the default font (Calibri 11): a row's default height.
    static let lineHeight = 15.0

    /// `Detail (2)`: the base name shortened so the whole fits Excel's 31 characters.
    static func partName(_ base: String, number: Int) -> String {
        let suffix = " (\(number))"
        return String(base.prefix(31 - suffix.count)) + suffix
    }

    /// Appends one data row; the cells must match the columns' kinds.
    public func append(_ row: [ReportCell]) throws(ReportOutputError) {
        precondition(!isFinished, "table already finished")
        precondition(row.count == columns.count, "row has \(row.count) cells for \(columns.count) columns")
        precondition(written < rowCount, "more rows than the \(rowCount) declared")
        for (column, cell) in zip(columns, row) {
            precondition(column.kind.accepts(cell), "\(cell) in \(column.kind) column \(column.title)")
        }
        if writtenInPart == rowsPerPart { try beginPart() }
        do { try sums.add(row) } catch {
            throw ReportOutputError(.xlsxLibraryFailed, path: workbook.destination.path, message: "\(error)")
        }
        let sheet = parts[parts.count - 1].sheet
        let rowIndex = headerRow + 1 + writtenInPart
        // A row with wrapped text is made tall enough for it: readers do not grow rows on opening.
        // Set before the row's cells, as constant-memory mode requires.
        let lines = row.reduce(1) { max($0, XLSXColumnWidths.wrappedLines($1)) }
        if lines > 1 {
            try workbook.check(
                worksheet_set_row(sheet.sheet, lxw_row_t(rowIndex), Self.lineHeight * Double(lines), nil),
                "height of row \(rowIndex + 1)")
        }
        for (index, cell) in row.enumerated() {
            widths.measure(cell, at: index)
            try sheet.write(cell, row: rowIndex, column: index)
        }
        written += 1
        writtenInPart += 1
    }

    /// Writes the totals row (if any column has a total) after checking every declared row came.
    public func finish() throws(ReportOutputError) {
        precondition(!isFinished, "table finished twice")
        precondition(written == rowCount, "\(written) rows written, \(rowCount) declared")
        isFinished = true
        for index in columns.indices {
            if sums.hasTotals { widths.measure(sums.totalCell(index), at: index) }
            for part in parts { try part.sheet.setColumnWidth(index, widths.width(index)) }
        }
        guard sums.hasTotals else { return }
        let last = parts[parts.count - 1]
        let totalsRow = headerRow + 1 + last.rows
        for index in columns.indices {
            let cell = sums.totalCell(index)
            if case .sum = columns[index].total, cell != .empty, rowCount > 0 {
                try last.sheet.writeFormula(sumFormula(column: index), cachedValue: cell, row: totalsRow,
                                            column: index, bold: true)
            } else {
                try last.sheet.write(cell, row: totalsRow, column: index, bold: true)
            }
        }
    }

    /// `SUM(C2:C11)` on one sheet; `SUM('Detail'!C2:C11,'Detail (2)'!C2:C5)` across parts.
    func sumFormula(column: Int) -> String {
        let letter = Self.columnLetters(column)
        let first = headerRow + 2
        let ranges = parts.filter { $0.rows > 0 }.map { part in
            let range = "\(letter)\(first):\(letter)\(first + part.rows - 1)"
            return parts.count == 1 ? range : "'\(part.name.replacingOccurrences(of: "'", with: "''"))'!\(range)"
        }
        return "=SUM(\(ranges.joined(separator: ",")))"
    }

    /// `0 -> A`, `25 -> Z`, `26 -> AA`.
    static func columnLetters(_ column: Int) -> String {
        var index = column + 1
        var letters = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            letters = String(UnicodeScalar(UInt8(65 + remainder))) + letters
            index = (index - 1) / 26
        }
        return letters
    }

    /// Adds a line chart to the right of the table's first sheet. Call it before appending rows.
    /// Series that do not lie wholly on the first sheet are left out (a charted table normally fits:
    /// a daily trend has a few thousand rows).
    ///
    /// The axes carry their own number formats: a chart reader does not always take the cells'
    /// formats (LibreOffice showed date categories as serial numbers such as 46327), so dates are
    /// labelled `categoryFormat` (e.g. `dd mmm`) and values `valueFormat` (e.g. `#,##0`).
    public func addLineChart(
        title: String, yAxisTitle: String, series: [XLSXChartSeries], categoryFormat: String? = nil,
        valueFormat: String? = nil
    ) throws(ReportOutputError) {
        let drawable = series.filter { $0.rows.lowerBound >= 0 && $0.rows.upperBound < parts[0].rows }
        guard !drawable.isEmpty else { return }
        guard let chart = workbook_add_chart(workbook.handle, UInt8(LXW_CHART_LINE.rawValue)) else {
            throw ReportOutputError(.xlsxLibraryFailed, path: workbook.destination.path, message: "add chart")
        }
        chart_title_set_name(chart, title)
        chart_axis_set_name(chart.pointee.y_axis, yAxisTitle)
        if let categoryFormat { chart_axis_set_num_format(chart.pointee.x_axis, categoryFormat) }
        if let valueFormat { chart_axis_set_num_format(chart.pointee.y_axis, valueFormat) }
        chart_legend_set_position(chart, UInt8(LXW_CHART_LEGEND_BOTTOM.rawValue))
        for line in drawable {
            guard let handle = chart_add_series(chart, nil, nil) else {
                throw ReportOutputError(.xlsxLibraryFailed, path: workbook.destination.path, message: "add series")
            }
            let first = lxw_row_t(headerRow + 1 + line.rows.lowerBound)
            let last = lxw_row_t(headerRow + 1 + line.rows.upperBound)
            chart_series_set_categories(handle, name, first, lxw_col_t(line.categoryColumn),
                                        last, lxw_col_t(line.categoryColumn))
            chart_series_set_values(handle, name, first, lxw_col_t(line.valueColumn), last,
                                    lxw_col_t(line.valueColumn))
            chart_series_set_name(handle, line.name)
        }
        var placement = lxw_chart_options()
        placement.x_scale = 1.5
        placement.y_scale = 1.5
        let error = worksheet_insert_chart_opt(parts[0].sheet.sheet, lxw_row_t(headerRow + 1),
                                               lxw_col_t(columns.count + 1), chart, &placement)
        try workbook.check(error, "insert chart")
    }
}
