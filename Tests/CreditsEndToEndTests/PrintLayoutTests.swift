import Foundation
import Testing
import TestSupport

/// Goal: the workbooks print as finance prints them. Method: the quickstart's run (every fixture
/// night through pipelines/nightly.sh, so November's final report with its detail, December's
/// month-to-date report and November's invoices), each workbook converted to PDF by LibreOffice
/// headless, as a person would print it, and the pages counted per sheet from the footer every
/// sheet carries (sheet name and `Page N of M`) with poppler's pdftotext and pdfinfo.
///
/// Without LibreOffice and poppler-utils (`scripts/setup` installs them) the test is skipped with
/// a message; under CI (`CI` set) it runs and fails if they are missing.
@Suite(.serialized) struct PrintLayoutTests {
    static let tools = PrintTools()
    static let runsHere = tools.available || ProcessInfo.processInfo.environment["CI"] != nil

    @Test(.enabled(if: runsHere, "skipped: LibreOffice (soffice) or poppler-utils missing; run scripts/setup"))
    func quickstartWorkbooksPrintOnBoundedPages() throws {
        try #require(Self.tools.available, "CI must run the print check: soffice, pdftotext and pdfinfo on PATH")
        let site = TemporaryDirectory("print")
        try FileManager.default.copyItem(atPath: "\(repositoryRoot)/fixtures/nightly/inbox",
                                         toPath: site.file("inbox"))
        let nights = try FileManager.default.contentsOfDirectory(atPath: site.file("inbox")).sorted()
        for night in nights {
            let run = try PrintTools.run("/bin/sh", [
                "\(repositoryRoot)/pipelines/nightly.sh", "--date", night, "--inbox", site.file("inbox"),
                "--archive", site.file("archive"), "--out", site.file("out"), "--db", site.file("credits.sqlite"),
                "--config", "\(repositoryRoot)/fixtures/config", "--credits", CreditsBinary.path,
            ], environment: ["CREDITS_ALERT_SECRET": "print-check"])
            #expect(run.status == 0 || run.status == 3, "night \(night): \(run.output)")
        }
        let reports = try Self.workbooks(in: site.file("out/reports"))
        let invoices = try Self.workbooks(in: site.file("out/invoices"))
        #expect(reports.count == 2 && !invoices.isEmpty, "reports \(reports), invoices \(invoices)")
        let pdfs = try Self.tools.convertToPDF(reports + invoices, into: site.file("pdf"), profile: site.file("lo"))

        for report in reports {
            let workbook = try XLSXFile(url: URL(fileURLWithPath: report))
            let printed = try Self.tools.pages(of: pdfs[report]!, sheetNames: workbook.sheetNames)
            var bounds = 0
            for name in workbook.sheetNames {
                let rows = try workbook.sheet(name).lastRow
                // Landscape, one page wide: a page holds well over 20 rows, so this bound is
                // proportional to the rows and generous (before page setup: 293 pages).
                let bound = rows / 20 + 1
                let pages = printed.pages(ofSheet: name)
                print("print check: \(URL(fileURLWithPath: report).lastPathComponent) \(name): \(rows) rows, "
                      + "\(pages) page(s) (bound \(bound))")
                #expect(pages >= 1 && pages <= bound, "\(report) sheet \(name): \(pages) pages for \(rows) rows")
                bounds += bound
            }
            #expect(printed.pageCount <= bounds, "\(report): \(printed.pageCount) pages in all")
            // LibreOffice 7.4 may end a sheet whose last page is nearly full with a blank page (no
            // text, not even the footer) when the repeated header row is taller than one line; it
            // counts against the bound above. Any other page must name its sheet.
            #expect(printed.unassignedPages.isEmpty, "pages with no sheet footer: \(printed.unassignedPages)")
            if printed.blankPages > 0 { print("print check: \(report): \(printed.blankPages) blank page(s)") }
        }
        for invoice in invoices {
            let printed = try Self.tools.pages(of: pdfs[invoice]!, sheetNames: ["Invoice", "Appendix"])
            let invoicePages = printed.pageTexts(ofSheet: "Invoice")
            print("print check: \(URL(fileURLWithPath: invoice).lastPathComponent): Invoice \(invoicePages.count) "
                  + "page(s), Appendix \(printed.pages(ofSheet: "Appendix")) page(s)")
            #expect(invoicePages.count == 1, "\(invoice): the invoice sheet prints on \(invoicePages.count) pages")
            // Everything a reader needs is on that one page: the parties, the lines and the totals.
            let page = invoicePages.first ?? ""
            let sheet = try XLSXFile(url: URL(fileURLWithPath: invoice)).sheet("Invoice")
            let buyer = try #require(sheet["D10"]?.value, "the buyer's name in D10")
            for text in ["Invoice number", "Seller", "Buyer", buyer, "Subtotal", "Total"] {
                #expect(page.contains(text), "\(invoice): \(text) is not on the invoice's page")
            }
            #expect(printed.pages(ofSheet: "Appendix") >= 1)
        }
    }

    static func workbooks(in directory: String) throws -> [String] {
        guard let files = FileManager.default.enumerator(atPath: directory) else { return [] }
        return files.compactMap { $0 as? String }.filter { $0.hasSuffix(".xlsx") }.sorted()
            .map { "\(directory)/\($0)" }
    }
}

/// LibreOffice and poppler, found on PATH.
struct PrintTools {
    let soffice: String?
    let pdftotext: String?
    let pdfinfo: String?

    init() {
        soffice = Self.which("soffice")
        pdftotext = Self.which("pdftotext")
        pdfinfo = Self.which("pdfinfo")
    }

    var available: Bool { soffice != nil && pdftotext != nil && pdfinfo != nil }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "CREDITS_NOW")
        merged.merge(environment) { _, new in new }
        process.environment = merged
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readAllRetryingInterrupts()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Converts every workbook in one LibreOffice run (its start-up is most of the cost), with a
    /// profile of its own so it neither reads nor disturbs a user's. Returns PDF paths by workbook.
    func convertToPDF(_ workbooks: [String], into directory: String, profile: String) throws -> [String: String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var result: [String: String] = [:]
        // Workbooks of the same name (two periods' reports) go to separate directories.
        for (index, workbook) in workbooks.enumerated() {
            let folder = "\(directory)/\(index)"
            let run = try Self.run(soffice!, [
                "-env:UserInstallation=file://\(profile)", "--headless", "--norestore", "--convert-to", "pdf",
                "--outdir", folder, workbook,
            ])
            let pdf = "\(folder)/" + URL(fileURLWithPath: workbook).deletingPathExtension().lastPathComponent + ".pdf"
            guard run.status == 0, FileManager.default.fileExists(atPath: pdf) else {
                throw PrintCheckError(message: "soffice could not convert \(workbook): \(run.output)")
            }
            result[workbook] = pdf
        }
        return result
    }

    /// The PDF's pages as text, each assigned to the one of `sheetNames` its footer names.
    func pages(of pdf: String, sheetNames: [String]) throws -> PrintedPages {
        let info = try Self.run(pdfinfo!, [pdf])
        let count = info.output.split(separator: "\n").first { $0.hasPrefix("Pages:") }
            .flatMap { Int($0.dropFirst("Pages:".count).trimmingCharacters(in: .whitespaces)) }
        let text = try Self.run(pdftotext!, ["-layout", pdf, "-"])
        guard info.status == 0, text.status == 0, let count else {
            throw PrintCheckError(message: "poppler could not read \(pdf): \(info.output) \(text.output)")
        }
        // pdftotext ends every page with a form feed.
        var pages = text.output.components(separatedBy: "\u{0C}")
        if pages.last?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { pages.removeLast() }
        guard pages.count == count else {
            throw PrintCheckError(message: "\(pdf): pdfinfo counts \(count) pages, pdftotext \(pages.count)")
        }
        return PrintedPages(texts: pages, sheetNames: sheetNames)
    }
}

struct PrintCheckError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A printed workbook's pages, each assigned to the sheet its footer names (`<title>  <sheet>
/// Page N of M`, the centre part being the sheet name).
struct PrintedPages {
    let texts: [String]
    /// The sheet of each page; nil where no footer names one of the workbook's sheets.
    let sheets: [String?]

    init(texts: [String], sheetNames: [String]) {
        self.texts = texts
        sheets = texts.map { Self.sheet(onPage: $0, names: sheetNames) }
    }

    var pageCount: Int { texts.count }

    /// The sheet named in the page's footer: the longest of `names` that stands as a field of its
    /// own (between runs of spaces or line ends) in the last lines, so `Transactions (2)` is not
    /// taken for `Transactions`, and a value in the rows above is not taken for the footer.
    static func sheet(onPage text: String, names: [String]) -> String? {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let footer = lines.lastIndex(where: { $0.contains("Page ") && $0.contains(" of ") }) else { return nil }
        let fields = lines[max(0, footer - 1)...footer].flatMap { line in
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return names.filter(fields.contains).max { $0.count < $1.count }
    }

    func pageTexts(ofSheet name: String) -> [String] {
        zip(texts, sheets).filter { $0.1 == name }.map(\.0)
    }

    func pages(ofSheet name: String) -> Int { pageTexts(ofSheet: name).count }

    static func isBlank(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    var blankPages: Int { texts.filter(Self.isBlank).count }

    /// Pages with text whose footer names no sheet, with their last lines (for the failure message).
    var unassignedPages: [String] {
        texts.indices.filter { sheets[$0] == nil && !Self.isBlank(texts[$0]) }.map { index in
            "page \(index + 1): " + texts[index].split(separator: "\n").suffix(3).joined(separator: " | ")
        }
    }
}
