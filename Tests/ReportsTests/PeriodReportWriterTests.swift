import Foundation
import Ledger
import Reports
import Testing
import TestSupport

@Suite("period report writer")
struct PeriodReportWriterTests {
    static let base = "credits-report-2026-11"

    static func write(
        _ report: PeriodReport = Fixtures.report(), details: [TransferDetail] = Fixtures.details(3),
        to scratch: ScratchDirectory, rowsPerSheetMax: Int = XLSXWorkbookOptions.excelRowsPerSheetMax
    ) throws -> [URL] {
        let options = XLSXWorkbookOptions(constantMemory: true, rowsPerSheetMax: rowsPerSheetMax)
        let writer = PeriodReportWriter(baseName: base, workbookOptions: options)
        return try writer.write(report, details: TransferDetailStream(details), to: scratch.url)
    }

    @Test("one workbook with a sheet per table and one CSV per table")
    func files() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let urls = try Self.write(to: scratch)
        let expected = [Self.base + ".xlsx"] + PeriodReportWriter.sheets.map { "\(Self.base)-\($0.file).csv" }
        #expect(urls.map(\.lastPathComponent) == expected)
        #expect(try scratch.entries() == expected.sorted())
        let file = try XLSXFile(url: urls[0])
        #expect(file.sheetNames == PeriodReportWriter.sheets.map(\.sheet))
        let core = try file.coreProperties()
        #expect(core["title"] == "Credits report")
        #expect(core["subject"] == "Period 2026-11 (2026-11-01 to 2026-11-30)")
    }

    @Test("the fixture ties out, and the Summary sheet holds the same numbers")
    func summaryTiesOut() throws {
        let report = Fixtures.report()
        let allTieOut = report.summary.allSatisfy { $0.tiesOut }
        #expect(allTieOut)
        var broken = report.summary[0]
        broken.closing.money = Fixtures.gbp(40771)
        #expect(!broken.tiesOut)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sheet = try XLSXFile(url: try Self.write(to: scratch)[0]).sheet("Summary")
        #expect(sheet["A2"]?.value == "org-a" && sheet["B2"]?.value == "Agency A, \"North\"")
        #expect(sheet["C2"]?.number == 1000 && sheet["D2"]?.number == 45)
        #expect(sheet["Q2"]?.number == 9060.25 && sheet["R2"]?.number == 407.70)
        #expect(sheet["R3"]?.numberFormat == "\"¥\"#,##0" && sheet["R3"]?.number == 56482)
        // Credits add across organisations; GBP and JPY do not, so money totals stay empty.
        #expect(sheet["Q4"]?.formula == "SUM(Q2:Q3)" && sheet["Q4"]?.number == 12825.75)
        #expect(sheet["R4"] == nil)
    }

    @Test("team rows sum exactly to the organisation's consumption in credits and minor units")
    func teamsTieOut() throws {
        let report = Fixtures.report()
        let credits = report.byTeam.map(\.consumption.credits.microcredits).reduce(0, +)
        let money = report.byTeam.map(\.consumption.money.minorUnits).reduce(0, +)
        #expect(credits == report.summary[0].consumption.credits.microcredits)
        #expect(money == report.summary[0].consumption.money.minorUnits)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sheet = try XLSXFile(url: try Self.write(to: scratch)[0]).sheet("By team")
        #expect(sheet["D5"]?.formula == "SUM(D2:D4)" && sheet["D5"]?.number == 2345.25)
        #expect(sheet["E5"]?.formula == "SUM(E2:E4)" && sheet["E5"]?.number == 105.54)
    }

    @Test("the daily trend has a line chart over each organisation's rows")
    func chart() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = try XLSXFile(url: try Self.write(to: scratch)[0])
        #expect(try file.sheet("Daily trend").hasDrawing)
        let chart = try #require(try file.part("xl/charts/chart1.xml"))
        #expect(chart.contains("<c:lineChart>"))
        // The axes say how to show their numbers: days, not date serials such as 46327.
        #expect(chart.contains(#"<c:numFmt formatCode="dd mmm" sourceLinked="0"/>"#))
        #expect(chart.contains(##"<c:numFmt formatCode="#,##0" sourceLinked="0"/>"##))
        #expect(chart.contains("'Daily trend'!$B$2:$B$31"))
        #expect(chart.contains("'Daily trend'!$D$2:$D$31"))
        #expect(chart.contains("'Daily trend'!$D$32:$D$61"))
        #expect(file.partPaths.contains("xl/drawings/drawing1.xml"))
        let daily = try file.sheet("Daily trend")
        #expect(daily["B2"]?.numberFormat == "yyyy-mm-dd" && daily["B2"]?.number == XLSXFile.serial(
            year: 2026, month: 11, day: 1))
    }

    @Test("hostile free text is text in XLSX and neutralised in CSV")
    func injection() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let urls = try Self.write(to: scratch)
        let file = try XLSXFile(url: urls[0])
        let teams = try file.sheet("By team")
        #expect(teams["B2"]?.isText == true && teams["B2"]?.value == "=1+2" && teams["B2"]?.formula == nil)
        #expect(try file.sheet("By investigation")["B2"]?.value == "+Op Nightjar")
        #expect(try file.sheet("Transactions")["L2"]?.isText == true)
        let csv = try #require(CSVReader.parse(try String(contentsOf: urls[2], encoding: .utf8)))
        #expect(csv[1][1] == "'=1+2")
        #expect(csv[2][1] == "Alpha, \"quoted\"" && csv[3][1] == "Line\nbreak")
        let exceptions = try String(contentsOf: urls[7], encoding: .utf8)
        #expect(exceptions.contains(",'-no metadata,45.00,GBP,"))
        let summary = try #require(CSVReader.parse(try String(contentsOf: urls[1], encoding: .utf8)))
        #expect(summary[1].contains("-5") && summary[1].contains("-0.23"), "negative numbers stay numbers")
    }

    @Test("CSV has a currency column after every money column and plain numbers")
    func csvShape() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let urls = try Self.write(to: scratch)
        let summary = try #require(CSVReader.parse(try String(contentsOf: urls[1], encoding: .utf8)))
        #expect(summary[0].count == 2 + 8 * 3)
        #expect(Array(summary[0][2...4]) == ["Opening credits", "Opening money", "Opening money currency"])
        #expect(summary[1][2...4] == ["1000", "45.00", "GBP"])
        #expect(summary[2][23...25] == ["3765.5", "56482", "JPY"])
        #expect(summary.count == 3, "no totals row in CSV")
        let daily = try #require(CSVReader.parse(try String(contentsOf: urls[5], encoding: .utf8)))
        #expect(daily[1][1] == "2026-11-01")
    }

    @Test("the same report twice gives byte-identical CSV and identical XLSX cells")
    func determinism() throws {
        let first = try ScratchDirectory()
        let second = try ScratchDirectory()
        defer { first.remove(); second.remove() }
        let a = try Self.write(to: first, rowsPerSheetMax: 10)
        let b = try Self.write(to: second, rowsPerSheetMax: 10)
        for (x, y) in zip(a.dropFirst(), b.dropFirst()) {
            #expect(try Data(contentsOf: x) == Data(contentsOf: y), "\(x.lastPathComponent)")
        }
        let fileA = try XLSXFile(url: a[0])
        let fileB = try XLSXFile(url: b[0])
        #expect(fileA.sheetNames == fileB.sheetNames)
        for name in fileA.sheetNames {
            #expect(try fileA.sheet(name).cells == fileB.sheet(name).cells, "\(name)")
        }
    }

    @Test("the transaction detail splits across sheets at the injected limit, all rows kept")
    func detailSplit() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let urls = try Self.write(details: Fixtures.details(25), to: scratch, rowsPerSheetMax: 10)
        let file = try XLSXFile(url: urls[0])
        #expect(Array(file.sheetNames.suffix(3)) == ["Transactions", "Transactions (2)", "Transactions (3)"])
        #expect(try file.sheet("Transactions (3)")["A8"]?.number == 25)
        // 60 daily rows at 8 per sheet (header and totals take two of the ten rows).
        #expect(file.sheetNames.filter { $0.hasPrefix("Daily trend") }.count == 8)
        let csv = try #require(CSVReader.parse(try String(contentsOf: urls.last!, encoding: .utf8)))
        #expect(csv.count == 26)
    }

    @Test("a detail stream that delivers fewer rows than counted fails and leaves no file")
    func detailCountMismatch() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let rows = Fixtures.details(3)
        let stream = TransferDetailStream(count: 4) { body in for row in rows { try body(row) } }
        #expect {
            try PeriodReportWriter(baseName: Self.base).write(Fixtures.report(), details: stream, to: scratch.url)
        } throws: { error in
            (error as? ReportOutputError)?.code == .rowCountMismatch
        }
        #expect(try scratch.entries().isEmpty)
    }
}
