import Foundation
import Ledger
import Reports
import Testing
import TestSupport

@Suite("XLSX workbook and tables")
struct XLSXWorkbookTests {
    static let columns = [
        ReportColumn("Name", .text, width: 30, total: .label("Total")), ReportColumn("Events", .integer, total: .sum),
        ReportColumn("Credits", .credits, total: .sum), ReportColumn("Cost", .money, total: .sum),
        ReportColumn("Day", .date), ReportColumn("At", .instant), ReportColumn("Ratio", .decimal),
    ]

    static func row(_ name: String, _ index: Int) -> [ReportCell] {
        [.text(name), .integer(Int64(index)), .credits(Credits(microcredits: Int64(index) * 1_500_000)),
         .money(Fixtures.gbp(Int64(index) * 125)), .date(LocalDate(year: 2026, month: 11, day: index + 1)!),
         .instant(Instant(millisecondsSinceEpoch: 1_795_000_000_000)),
         .decimal(ExactDecimal(significand: 325, scale: 2))]
    }

    /// Writes `names` as rows of the test table and returns the file read back.
    static func writeTable(
        _ names: [String], in scratch: ScratchDirectory, options: XLSXWorkbookOptions
    ) throws -> XLSXFile {
        let url = scratch.url.appendingPathComponent("t.xlsx")
        let workbook = try XLSXWorkbook(destination: url, options: options)
        try workbook.setProperties(XLSXDocumentProperties(
            title: "Credits report", subject: "Period 2026-11", comments: "generated", created: Fixtures.generatedAt))
        let table = try workbook.addTable(name: "Data", columns: columns, rowCount: names.count)
        for (index, name) in names.enumerated() { try table.append(row(name, index + 1)) }
        try table.finish()
        #expect(!FileManager.default.fileExists(atPath: url.path), "nothing visible before commit")
        try workbook.commit()
        #expect(try scratch.entries() == ["t.xlsx"], "no temporary file left")
        return try XLSXFile(url: url)
    }

    @Test("cells keep their types and number formats", arguments: [false, true])
    func typedCells(constantMemory: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try Self.writeTable(["alpha", "beta", "gamma"], in: scratch,
                                       options: XLSXWorkbookOptions(constantMemory: constantMemory))
        let sheet = try file.sheet("Data")
        let header = try #require(sheet["A1"])
        #expect(header.isText && header.value == "Name" && header.isBold)
        #expect(sheet["A2"]?.isText == true && sheet["A2"]?.value == "alpha")
        #expect(sheet["B2"]?.number == 1 && sheet["B2"]?.numberFormat == "#,##0")
        #expect(sheet["C2"]?.number == 1.5 && sheet["C2"]?.numberFormat == "#,##0.0#####")
        #expect(sheet["C3"]?.number == 3 && sheet["C3"]?.numberFormat == "#,##0")
        #expect(sheet["D2"]?.number == 1.25 && sheet["D2"]?.numberFormat == "\"£\"#,##0.00")
        #expect(sheet["E2"]?.number == XLSXFile.serial(year: 2026, month: 11, day: 2))
        #expect(sheet["E2"]?.numberFormat == "yyyy-mm-dd")
        #expect(sheet["F2"]?.numberFormat == "yyyy-mm-dd hh:mm:ss")
        let instantSerial = try #require(sheet["F2"]?.number)
        #expect(abs(instantSerial - (1_795_000_000.0 / 86_400 + 25_569)) < 1e-9)
        #expect(sheet["G2"]?.number == 3.25)
    }

    @Test("header frozen, autofilter over header and data, widths set", arguments: [false, true])
    func viewSettings(constantMemory: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try Self.writeTable(["a", "b", "c"], in: scratch,
                                       options: XLSXWorkbookOptions(constantMemory: constantMemory))
        let sheet = try file.sheet("Data")
        #expect(sheet.pane?["topLeftCell"] == "A2")
        #expect(sheet.pane?["state"] == "frozen")
        #expect(sheet.pane?["ySplit"] == "1")
        #expect(sheet.autoFilterReference == "A1:G4")
        #expect(sheet.columnWidths[1].map { $0 >= 30 } == true)
        #expect(sheet.columnWidths[5].map { $0 >= 10 } == true)
    }

    @Test("every table sheet prints on A4 landscape, one page wide, its header row on every page",
          arguments: [false, true])
    func pageSetup(constantMemory: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var options = XLSXWorkbookOptions(constantMemory: constantMemory, rowsPerSheetMax: 3)
        options.pageSetup.footerTitle = "Credits report 2026-11 & more"
        let file = try Self.writeTable(["a", "b", "c"], in: scratch, options: options)
        #expect(file.sheetNames == ["Data", "Data (2)", "Data (3)"])
        let workbook = try XMLElementNode.parse(Data(try #require(try file.part("xl/workbook.xml")).utf8))
        let titles = workbook.descendants("definedName").filter { $0.attributes["name"] == "_xlnm.Print_Titles" }
        #expect(titles.map(\.allText).sorted() == ["'Data (2)'!$1:$1", "'Data (3)'!$1:$1", "Data!$1:$1"])
        for (_, path) in file.sheets {
            let sheet = try XMLElementNode.parse(Data(try #require(try file.part(path)).utf8))
            #expect(sheet.first("pageSetUpPr")?.attributes["fitToPage"] == "1")
            let setup = try #require(sheet.first("pageSetup")?.attributes)
            #expect(setup["paperSize"] == "9" && setup["orientation"] == "landscape")
            #expect(setup["fitToHeight"] == "0" && (setup["fitToWidth"] ?? "1") == "1")
            #expect(sheet.first("oddFooter")?.allText == "&LCredits report 2026-11 && more&C&A&RPage &P of &N")
        }
    }

    @Test("columns are as wide as the longest value written; longer text wraps", arguments: [false, true])
    func widthsFromData(constantMemory: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let long = "Directorate for Serious and Organised Crime, North" // 50 characters
        let huge = String(repeating: "x", count: 200)
        let url = scratch.url.appendingPathComponent("w.xlsx")
        let workbook = try XLSXWorkbook(destination: url, options: XLSXWorkbookOptions(constantMemory: constantMemory))
        let columns = [ReportColumn("Team", .text), ReportColumn("Detail", .text), ReportColumn("Cost", .money),
                       ReportColumn("Baseline credits per day", .credits)]
        let table = try workbook.addTable(name: "Data", columns: columns, rowCount: 2)
        try table.append([.text(long), .text("short"), .money(Fixtures.gbp(123_456_789_012)),
                          .credits(Credits(microcredits: 1_500_000))])
        try table.append([.text("b"), .text(huge), .money(Fixtures.gbp(1)), .credits(Credits(microcredits: 2_000_000))])
        try table.finish()
        try workbook.commit()
        let sheet = try XLSXFile(url: url).sheet("Data")
        #expect(sheet.columnWidths[1].map { $0 >= 50 && $0 <= 60 } == true, "\(sheet.columnWidths)")
        // The library adds the cell padding (5 pixels) to the width it is given.
        #expect(sheet.columnWidths[2].map { $0 >= 63 && $0 < 64 } == true, "capped; the 200 characters wrap")
        // "£1,234,567,890.12" is 17 characters.
        #expect(sheet.columnWidths[3].map { $0 >= 17 && $0 <= 22 } == true, "\(sheet.columnWidths)")
        // A long title wraps instead of widening a column of short numbers: "Baseline credits" per day.
        #expect(sheet.columnWidths[4].map { $0 < 24 } == true, "\(sheet.columnWidths)")
        // Rows are made tall enough for what wraps (readers do not grow them on opening): the
        // header for "Baseline / credits per / day", row 3 for 200 characters at 60 a line.
        let file = try XLSXFile(url: url)
        let xml = try XMLElementNode.parse(Data(try #require(try file.part(file.sheets[0].path)).utf8))
        let heights = Dictionary(uniqueKeysWithValues: xml.descendants("row").map {
            ($0.attributes["r"] ?? "", $0.attributes["ht"])
        })
        #expect(heights["1"] == "45" && heights["2"] == .some(nil) && heights["3"] == "60", "\(heights)")
        let styles = try XMLElementNode.parse(Data(try #require(try XLSXFile(url: url).part("xl/styles.xml")).utf8))
        let wrapping = styles.first("cellXfs")?.children.filter { $0.first("alignment")?.attributes["wrapText"] == "1" }
        #expect(wrapping?.isEmpty == false, "a wrapping format exists for the long text and the header")
    }

    @Test("totals are SUM formulas whose cached values are the exact sums", arguments: [false, true])
    func totals(constantMemory: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try Self.writeTable(["a", "b", "c"], in: scratch,
                                       options: XLSXWorkbookOptions(constantMemory: constantMemory))
        let sheet = try file.sheet("Data")
        #expect(sheet["A5"]?.value == "Total" && sheet["A5"]?.isBold == true)
        #expect(sheet["B5"]?.formula == "SUM(B2:B4)" && sheet["B5"]?.number == 6)
        #expect(sheet["C5"]?.formula == "SUM(C2:C4)" && sheet["C5"]?.number == 9)
        #expect(sheet["D5"]?.formula == "SUM(D2:D4)" && sheet["D5"]?.number == 7.5)
        #expect(sheet["D5"]?.numberFormat == "\"£\"#,##0.00" && sheet["D5"]?.isBold == true)
        #expect(sheet["E5"] == nil)
    }

    @Test("text that looks like a formula is stored as text in both modes", arguments: [false, true])
    func injection(constantMemory: Bool) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try Self.writeTable(hostileTexts, in: scratch,
                                       options: XLSXWorkbookOptions(constantMemory: constantMemory))
        let sheet = try file.sheet("Data")
        for (index, text) in hostileTexts.enumerated() {
            let cell = try #require(sheet["A\(index + 2)"])
            #expect(cell.isText)
            #expect(cell.formula == nil)
            #expect(cell.value == text)
        }
        let formulas = sheet.cells.values.filter { $0.formula != nil }.map(\.reference).sorted()
        #expect(formulas == ["B8", "C8", "D8"], "only the totals row holds formulas")
    }

    @Test("text longer than Excel's 32,767 characters is cut there, not refused")
    func longText() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let long = String(repeating: "é", count: 40_000)
        let file = try Self.writeTable([long], in: scratch, options: XLSXWorkbookOptions(constantMemory: true))
        #expect(try file.sheet("Data")["A2"]?.value.count == 32_767)
    }

    @Test("document properties carry title, subject and the given creation time")
    func properties() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try Self.writeTable(["a"], in: scratch, options: XLSXWorkbookOptions())
        let core = try file.coreProperties()
        #expect(core["title"] == "Credits report")
        #expect(core["subject"] == "Period 2026-11")
        #expect(core["creator"] == "Credits")
        #expect(core["created"] == "2026-11-18T11:06:40Z")
    }

    @Test("rows beyond the injected limit continue on numbered sheets; totals sum every part")
    func splitting() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let names = (1...20).map { "row \($0)" }
        // 10 rows per sheet: header + totals slot leave 8 data rows -> 8, 8, 4.
        let file = try Self.writeTable(names, in: scratch,
                                       options: XLSXWorkbookOptions(constantMemory: true, rowsPerSheetMax: 10))
        #expect(file.sheetNames == ["Data", "Data (2)", "Data (3)"])
        let first = try file.sheet("Data")
        let second = try file.sheet("Data (2)")
        let last = try file.sheet("Data (3)")
        #expect(first["A9"]?.value == "row 8" && first.lastRow == 9 && first.autoFilterReference == "A1:G9")
        #expect(second["A1"]?.value == "Name" && second["A2"]?.value == "row 9" && second.pane?["state"] == "frozen")
        #expect(last["A5"]?.value == "row 20" && last.autoFilterReference == "A1:G5")
        #expect(last["B6"]?.formula == "SUM('Data'!B2:B9,'Data (2)'!B2:B9,'Data (3)'!B2:B5)")
        #expect(last["B6"]?.number == Double((1...20).reduce(0, +)))
        #expect(first.lastRow <= 10 && second.lastRow <= 10 && last.lastRow <= 10)
    }

    @Test("a table without totals fills each sheet up to the limit")
    func splittingWithoutTotals() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let workbook = try XLSXWorkbook(destination: scratch.url.appendingPathComponent("d.xlsx"),
                                        options: XLSXWorkbookOptions(constantMemory: true, rowsPerSheetMax: 10))
        let table = try workbook.addTable(name: "Detail", columns: [ReportColumn("N", .integer)], rowCount: 19)
        for index in 1...19 { try table.append([.integer(Int64(index))]) }
        try table.finish()
        try workbook.commit()
        let file = try XLSXFile(url: workbook.destination)
        #expect(file.sheetNames == ["Detail", "Detail (2)", "Detail (3)"])
        #expect(try file.sheet("Detail").lastRow == 10)
        #expect(try file.sheet("Detail (3)")["A2"]?.number == 19)
    }

    @Test("an empty table still has its header, filter and frozen pane")
    func emptyTable() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try Self.writeTable([], in: scratch, options: XLSXWorkbookOptions(constantMemory: true))
        let sheet = try file.sheet("Data")
        #expect(sheet["A1"]?.value == "Name")
        #expect(sheet.autoFilterReference == "A1:G1")
        #expect(sheet["A2"]?.value == "Total")
        #expect(sheet["B2"]?.number == 0 && sheet["B2"]?.formula == nil)
    }

    @Test("a missing directory is a typed error and leaves nothing")
    func missingDirectory() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        #expect {
            try XLSXWorkbook(destination: scratch.url.appendingPathComponent("nope/r.xlsx"))
        } throws: { error in
            (error as? ReportOutputError)?.code == .directoryMissing
        }
        #expect(try scratch.entries().isEmpty)
    }

    @Test("a file name the system refuses is an I/O error and leaves nothing")
    func unwritableName() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let name = String(repeating: "x", count: 260) + ".xlsx"
        #expect {
            try XLSXWorkbook(destination: scratch.url.appendingPathComponent(name))
        } throws: { error in
            (error as? ReportOutputError)?.code == .ioFailed
        }
        #expect(try scratch.entries().isEmpty)
    }

    @Test("a library error carries libxlsxwriter's message; a dropped workbook leaves no file")
    func libraryError() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        do {
            let workbook = try XLSXWorkbook(destination: scratch.url.appendingPathComponent("r.xlsx"))
            #expect {
                try workbook.addTable(name: "Bad[name]", columns: [ReportColumn("A", .text)], rowCount: 0)
            } throws: { error in
                let error = error as? ReportOutputError
                return error?.code == .xlsxLibraryFailed && error?.message.contains("invalid characters") == true
            }
            _ = try workbook.addTable(name: "Good", columns: [ReportColumn("A", .text)], rowCount: 0)
        }
        #expect(try scratch.entries().isEmpty)
    }
}
