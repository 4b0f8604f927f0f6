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
            let printed = try Self.tools.pages(of: pdfs[report]!)
            let workbook = try XLSXFile(url: URL(fileURLWithPath: report))
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
            #expect(printed.unassignedPages.isEmpty, "pages with no sheet footer: \(printed.unassignedPages)")
        }
        for invoice in invoices {
            let printed = try Self.tools.pages(of: pdfs[invoice]!)
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
        let data = output.fileHandleForReading.readDataToEndOfFile()
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

    /// The PDF's pages as text, each assigned to the sheet its footer names.
    func pages(of pdf: String) throws -> PrintedPages {
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
        return PrintedPages(texts: pages)
    }
}

struct PrintCheckError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A printed workbook's pages, by the sheet named in each page's footer (`<title>  <sheet>  Page
/// N of M`).
struct PrintedPages {
    let texts: [String]

    var pageCount: Int { texts.count }

    /// The sheet named on the page's footer line: the text just before `Page N of M`.
    static func sheet(onPage text: String) -> String? {
        let footer = text.split(separator: "\n").last { $0.contains("Page ") && $0.contains(" of ") }
        guard let footer, let page = footer.range(of: "Page ", options: .backwards) else { return nil }
        // Columns of the footer are separated by runs of spaces in -layout output.
        let parts = footer[..<page.lowerBound].components(separatedBy: "  ")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return parts.last
    }

    func pageTexts(ofSheet name: String) -> [String] {
        texts.filter { Self.sheet(onPage: $0) == name }
    }

    func pages(ofSheet name: String) -> Int { pageTexts(ofSheet: name).count }

    var unassignedPages: [Int] {
        texts.indices.filter { Self.sheet(onPage: texts[$0]) == nil }
    }
}
