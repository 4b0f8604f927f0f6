import Ledger

/// Column widths from the values actually written, so no name or amount is cut on screen or on
/// paper: each column is as wide as its longest value as displayed (digit grouping, currency
/// symbol, decimals), at least as wide as the longest word of its title, and at most
/// `textWidthMax` (longer text wraps instead, see `XLSXFormats.wrappedText`).
///
/// Widths are in Excel's character units (the width of a digit of the default font); the
/// estimate counts characters, which is right for digits and a little generous for Latin text.
/// Measuring is a few integer operations per cell, cheap next to writing the cell.
struct XLSXColumnWidths {
    /// Free text wider than this wraps within the column instead of widening it further.
    static let textWidthMax = 60
    /// Room for the bold header's autofilter button and a little padding.
    static let padding = 3

    private(set) var longest: [Int]
    private let columns: [ReportColumn]

    init(columns: [ReportColumn]) {
        self.columns = columns
        longest = columns.map { column in
            let words = column.title.split(separator: " ").map(\.count)
            // The title wraps onto two lines at most: its longest word, or half of it.
            return max(words.max() ?? 0, (column.title.count + 1) / 2)
        }
    }

    /// Widens column `index` to hold `cell` as displayed.
    mutating func measure(_ cell: ReportCell, at index: Int) {
        let width = Self.displayWidth(cell)
        if width > longest[index] { longest[index] = width }
    }

    /// The width to set for column `index`: the measured width (capped for text) plus padding,
    /// or the column's declared least width if that is more.
    func width(_ index: Int) -> Double {
        max(columns[index].width ?? 0, Double(min(longest[index], Self.textWidthMax) + Self.padding))
    }

    /// The lines column `index`'s title takes when it wraps at spaces within the column's
    /// current width. Spreadsheet applications do not grow a row for wrapped text on opening
    /// (LibreOffice printed the second line over the first data row), so the header row's height
    /// is set from this. Widths only grow as values are measured, so the count never rises later.
    func titleLines(_ index: Int) -> Int {
        let available = max(1, Int(width(index)) - 1)
        var lines = 1
        var used = 0
        for word in columns[index].title.split(separator: " ") {
            if used == 0 {
                used = word.count
            } else if used + 1 + word.count <= available {
                used += 1 + word.count
            } else {
                lines += 1
                used = word.count
            }
        }
        return lines
    }

    /// The lines a cell takes in a column of the widest allowed width: more than one only for
    /// text longer than `textWidthMax`, which wraps (`XLSXFormats.format(for:bold:)`). Capped at
    /// the 27 lines of Excel's tallest row (409 points).
    static func wrappedLines(_ cell: ReportCell) -> Int {
        guard case .text(let text) = cell else { return 1 }
        let length = text.utf8.count
        guard length > textWidthMax else { return 1 }
        return min((length + textWidthMax - 1) / textWidthMax, 27)
    }

    /// The characters a cell shows with the formats of `XLSXFormats`.
    static func displayWidth(_ cell: ReportCell) -> Int {
        switch cell {
        case .empty: 0
        // UTF-8 length: constant time for native strings; over-counts non-ASCII letters, which
        // errs on the side of a wide enough column.
        case .text(let text): text.utf8.count
        case .integer(let value): groupedDigits(value)
        case .credits(let value):
            groupedDigits(value.microcredits / Credits.unitsPerCredit)
                + (value.microcredits % Credits.unitsPerCredit == 0 ? 0 : 1 + Credits.decimalPlaces)
        case .money(let value):
            value.currency.symbol.count + groupedDigits(value.minorUnits / powerOfTen(value.currency.exponent))
                + (value.currency.exponent > 0 ? 1 + value.currency.exponent : 0) + 1
        case .decimal(let value):
            groupedDigits(value.significand / powerOfTen(value.scale)) + 1 + max(value.scale, 2)
        case .date: 10
        case .instant: 19
        }
    }

    /// `-1,234,567` is 10 characters: digits, a comma per group of three, the sign.
    static func groupedDigits(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var digits = 1
        while magnitude >= 10 {
            magnitude /= 10
            digits += 1
        }
        return digits + (digits - 1) / 3 + (value < 0 ? 1 : 0)
    }

    private static func powerOfTen(_ exponent: Int) -> Int64 {
        (0..<exponent).reduce(1) { power, _ in power * 10 }
    }
}
