import CXLSXWriter

/// How a worksheet prints. Spreadsheets are printed (and converted to PDF) as often as they are
/// read on screen, and without a page setup a wide table prints column strips on hundreds of
/// portrait pages. Every sheet the writers make carries one of these.
///
/// The settings are stored by the library and written when the workbook closes, so they may be
/// applied in constant-memory mode at any time before `commit()`; the writers apply them when a
/// sheet is added, before its first row.
public struct XLSXPageSetup: Sendable, Hashable {
    public enum Orientation: Sendable, Hashable {
        case portrait, landscape
    }

    /// Page margins in inches (the unit of the file format).
    public struct Margins: Sendable, Hashable {
        public var left: Double
        public var right: Double
        public var top: Double
        public var bottom: Double

        public init(left: Double, right: Double, top: Double, bottom: Double) {
            self.left = left
            self.right = right
            self.top = top
            self.bottom = bottom
        }

        /// Half an inch at the sides, three quarters at the top and bottom (room for the footer).
        public static let standard = Margins(left: 0.5, right: 0.5, top: 0.75, bottom: 0.75)
    }

    public var orientation: Orientation
    /// Pages across; the sheet is scaled down so its columns fit. 0 means as many as needed.
    public var fitPagesWide: Int
    /// Pages down; 0 means as many as the rows need (the usual choice with `fitPagesWide` 1).
    public var fitPagesTall: Int
    public var margins: Margins
    /// Repeat a table's header row at the top of every printed page ("print titles").
    public var repeatsHeaderRow: Bool
    /// Left part of the page footer (e.g. the document's title); the centre shows the sheet name
    /// and the right `Page N of M`.
    public var footerTitle: String

    public init(
        orientation: Orientation, fitPagesWide: Int = 1, fitPagesTall: Int = 0, margins: Margins = .standard,
        repeatsHeaderRow: Bool = true, footerTitle: String = ""
    ) {
        precondition(fitPagesWide >= 0 && fitPagesTall >= 0, "page counts are never negative")
        self.orientation = orientation
        self.fitPagesWide = fitPagesWide
        self.fitPagesTall = fitPagesTall
        self.margins = margins
        self.repeatsHeaderRow = repeatsHeaderRow
        self.footerTitle = footerTitle
    }

    /// A report table: landscape, every column on one page across, as many pages down as the
    /// rows need, the header row repeated on each.
    public static func report(footerTitle: String) -> XLSXPageSetup {
        XLSXPageSetup(orientation: .landscape, footerTitle: footerTitle)
    }

    /// A one-page document (an invoice): portrait, scaled to fit one page.
    public static func singlePage(footerTitle: String) -> XLSXPageSetup {
        XLSXPageSetup(orientation: .portrait, fitPagesTall: 1, repeatsHeaderRow: false, footerTitle: footerTitle)
    }

    /// Paper size codes of the file format: 9 is A4 (210 x 297 mm), what finance prints on in
    /// Europe; Excel and LibreOffice otherwise fall back to the printer's default (often Letter).
    static let a4PaperCode: UInt8 = 9

    /// The footer in Excel's header/footer syntax: `&L` left, `&C` centre (`&A` the sheet name),
    /// `&R` right (`&P` page, `&N` pages). A literal `&` in the title is written `&&`.
    var footer: String {
        // The format allows 255 characters: 100 of title, even doubled, leave room for the rest.
        let title = String(footerTitle.prefix(100)).replacingOccurrences(of: "&", with: "&&")
        return "&L\(title)&C&A&RPage &P of &N"
    }

    /// Applies the setup to `sheet`; `headerRow` is the table's header row to repeat, if any.
    func apply(to sheet: UnsafeMutablePointer<lxw_worksheet>, headerRow: Int?) -> lxw_error {
        switch orientation {
        case .portrait: worksheet_set_portrait(sheet)
        case .landscape: worksheet_set_landscape(sheet)
        }
        worksheet_set_paper(sheet, Self.a4PaperCode)
        worksheet_set_margins(sheet, margins.left, margins.right, margins.top, margins.bottom)
        worksheet_fit_to_pages(sheet, UInt16(fitPagesWide), UInt16(fitPagesTall))
        let footerError = worksheet_set_footer(sheet, footer)
        guard footerError == LXW_NO_ERROR else { return footerError }
        if repeatsHeaderRow, let headerRow {
            return worksheet_repeat_rows(sheet, lxw_row_t(headerRow), lxw_row_t(headerRow))
        }
        return LXW_NO_ERROR
    }
}
