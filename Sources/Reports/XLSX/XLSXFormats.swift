import CXLSXWriter
import Ledger

/// The number formats of every cell kind, created once per workbook and shared by all sheets.
///
/// - credits: `#,##0` for whole values and `#,##0.0#####` for fractional ones (up to the six
///   decimals `Credits` carries), so whole credits show no stray decimal point;
/// - money: the currency symbol and exactly its ISO 4217 exponent, e.g. `"£"#,##0.00`, `"¥"#,##0`,
///   `"KWD "#,##0.000`;
/// - dates `yyyy-mm-dd`, instants `yyyy-mm-dd hh:mm:ss` (UTC), counts `#,##0`.
final class XLSXFormats {
    private let workbook: UnsafeMutablePointer<lxw_workbook>

    /// Bold text on a light fill with a border: the header row. A long title wraps onto a
    /// second line rather than widening a column of short numbers.
    let header: UnsafeMutablePointer<lxw_format>
    /// Text longer than a column's widest allowed width: wrapped, top-aligned, so it is shown
    /// and printed whole on several lines instead of being cut at the next cell.
    let wrappedText: UnsafeMutablePointer<lxw_format>
    /// A bold label that reads into the empty cells on its left (the invoice's totals).
    let rightAlignedLabel: UnsafeMutablePointer<lxw_format>

    init(workbook: UnsafeMutablePointer<lxw_workbook>) {
        self.workbook = workbook
        let header = workbook_add_format(workbook)!
        format_set_bold(header)
        format_set_bg_color(header, 0xD9E1F2)
        format_set_pattern(header, UInt8(LXW_PATTERN_SOLID.rawValue))
        format_set_border(header, UInt8(LXW_BORDER_THIN.rawValue))
        format_set_text_wrap(header)
        format_set_align(header, UInt8(LXW_ALIGN_VERTICAL_TOP.rawValue))
        self.header = header
        let wrapped = workbook_add_format(workbook)!
        format_set_text_wrap(wrapped)
        format_set_align(wrapped, UInt8(LXW_ALIGN_VERTICAL_TOP.rawValue))
        wrappedText = wrapped
        let label = workbook_add_format(workbook)!
        format_set_bold(label)
        format_set_align(label, UInt8(LXW_ALIGN_RIGHT.rawValue))
        rightAlignedLabel = label
    }

    static let integerFormat = "#,##0"
    static let creditsWholeFormat = "#,##0"
    static let creditsFractionFormat = "#,##0.0#####"
    static let decimalFormat = "#,##0.00##"
    static let dateFormat = "yyyy-mm-dd"
    static let instantFormat = "yyyy-mm-dd hh:mm:ss"
    /// A chart's date axis: a month's days fit side by side as `01 Nov`.
    static let chartDayFormat = "dd mmm"

    static func moneyFormat(_ currency: Currency) -> String {
        let decimals = currency.exponent > 0 ? "." + String(repeating: "0", count: currency.exponent) : ""
        return "\"\(currency.symbol)\"#,##0\(decimals)"
    }

    /// The format for a cell; `bold` for totals rows. Nil means the library's default.
    ///
    /// Called for every cell of a million-row sheet, so the lookup avoids building strings: one
    /// slot per fixed format, and a dictionary by currency only for money.
    func format(for cell: ReportCell, bold: Bool) -> UnsafeMutablePointer<lxw_format>? {
        let slot: FixedSlot
        switch cell {
        case .text(let text):
            if bold { return fixed(.bold, bold: false) }
            return text.utf8.count > XLSXColumnWidths.textWidthMax ? wrappedText : nil
        case .empty: return bold ? fixed(.bold, bold: false) : nil
        case .money(let value): return money(value.currency, bold: bold)
        case .integer: slot = .integer
        case .credits(let value):
            slot = value.microcredits % Credits.unitsPerCredit == 0 ? .creditsWhole : .creditsFraction
        case .decimal: slot = .decimal
        case .date: slot = .date
        case .instant: slot = .instant
        }
        return fixed(slot, bold: bold)
    }

    /// The formats that do not depend on a currency.
    enum FixedSlot: Int, CaseIterable {
        case bold, integer, creditsWhole, creditsFraction, decimal, date, instant

        var numberFormat: String? {
            switch self {
            case .bold: nil
            case .integer: XLSXFormats.integerFormat
            case .creditsWhole: XLSXFormats.creditsWholeFormat
            case .creditsFraction: XLSXFormats.creditsFractionFormat
            case .decimal: XLSXFormats.decimalFormat
            case .date: XLSXFormats.dateFormat
            case .instant: XLSXFormats.instantFormat
            }
        }
    }

    private var fixedFormats: [UnsafeMutablePointer<lxw_format>?] =
        Array(repeating: nil, count: FixedSlot.allCases.count * 2)
    private var moneyFormats: [String: UnsafeMutablePointer<lxw_format>] = [:]

    private func fixed(_ slot: FixedSlot, bold: Bool) -> UnsafeMutablePointer<lxw_format> {
        let index = slot.rawValue * 2 + (bold ? 1 : 0)
        if let format = fixedFormats[index] { return format }
        let format = make(numberFormat: slot.numberFormat, bold: bold || slot == .bold)
        fixedFormats[index] = format
        return format
    }

    private func money(_ currency: Currency, bold: Bool) -> UnsafeMutablePointer<lxw_format> {
        let key = bold ? currency.code + "b" : currency.code
        if let format = moneyFormats[key] { return format }
        let format = make(numberFormat: Self.moneyFormat(currency), bold: bold)
        moneyFormats[key] = format
        return format
    }

    private func make(numberFormat: String?, bold: Bool) -> UnsafeMutablePointer<lxw_format> {
        let format = workbook_add_format(workbook)!
        if let numberFormat { format_set_num_format(format, numberFormat) }
        if bold { format_set_bold(format) }
        return format
    }
}

/// Conversions of exact values to the C doubles a cell holds. This is the only place amounts
/// become binary floating point: each is an exact integer divided by a power of ten, which gives
/// the double nearest the exact decimal while the integer is below 2^53 (9,007,199,254,740,992
/// micro-credits, about nine billion credits); larger values cannot be held exactly by a cell.
enum XLSXNumber {
    /// Excel's serial day number of 1970-01-01 (the 1900 date system).
    static let unixEpochSerial = 25_569

    static func value(of cell: ReportCell) -> Double? {
        switch cell {
        case .text, .empty: nil
        case .integer(let value): Double(value)
        case .credits(let value): scaled(value.microcredits, places: Credits.decimalPlaces)
        case .money(let value): scaled(value.minorUnits, places: value.currency.exponent)
        case .decimal(let value): scaled(value.significand, places: value.scale)
        case .date(let value): Double(value.daysSinceEpoch + unixEpochSerial)
        case .instant(let value): serial(of: value)
        }
    }

    /// Powers of ten as doubles; each is exact (10^18 < 2^63 and has few significant bits).
    static let powersOfTen: [Double] = (0...18).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }

    static func scaled(_ units: Int64, places: Int) -> Double {
        Double(units) / powersOfTen[places]
    }

    /// Whole days and the fraction of the day separately, so the date part stays exact.
    static func serial(of instant: Instant) -> Double {
        let day = instant.utcDate.daysSinceEpoch
        let milliseconds = instant.millisecondsSinceEpoch - Int64(day) * Instant.millisecondsPerDay
        return Double(day + unixEpochSerial) + Double(milliseconds) / Double(Instant.millisecondsPerDay)
    }
}
