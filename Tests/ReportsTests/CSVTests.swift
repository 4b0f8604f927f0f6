import Foundation
import Ledger
import Reports
import Testing
import TestSupport

@Suite("CSV writer")
struct CSVTests {
    @Test("text starting with = + - @ TAB or CR gets a leading quote; other text is untouched")
    func neutralisation() {
        for text in hostileTexts + ["\rreturn"] {
            #expect(CSVFormat.neutralised(text) == "'" + text)
        }
        for text in ["plain", "a=b", " =x", "", "Ünïcode", "'already"] {
            #expect(CSVFormat.neutralised(text) == text)
        }
    }

    @Test("numbers are never neutralised: a negative amount stays a number")
    func numbersUntouched() {
        let credits = Credits(microcredits: -5_500_000)
        #expect(CSVFormat.fields(.credits(credits), kind: .credits) == ["-5.5"])
        #expect(CSVFormat.fields(.money(Money(minorUnits: -23, currency: .gbp)), kind: .money) == ["-0.23", "GBP"])
        #expect(CSVFormat.fields(.integer(-7), kind: .integer) == ["-7"])
    }

    @Test("plain decimals, ISO 8601 dates, money with its currency's decimals")
    func rendering() {
        #expect(CSVFormat.fields(.credits(Credits(microcredits: 1_234_567_000_001)), kind: .credits)
            == ["1234567.000001"])
        #expect(CSVFormat.fields(.money(Money(minorUnits: 1_234_567, currency: .gbp)), kind: .money)
            == ["12345.67", "GBP"])
        #expect(CSVFormat.fields(.money(Money(minorUnits: 1500, currency: .jpy)), kind: .money) == ["1500", "JPY"])
        #expect(CSVFormat.fields(.money(Money(minorUnits: 1500, currency: .kwd)), kind: .money) == ["1.500", "KWD"])
        #expect(CSVFormat.fields(.date(LocalDate(year: 2026, month: 11, day: 1)!), kind: .date) == ["2026-11-01"])
        #expect(CSVFormat.fields(.instant(Instant(millisecondsSinceEpoch: 0)), kind: .instant)
            == ["1970-01-01T00:00:00.000Z"])
        #expect(CSVFormat.fields(.empty, kind: .money) == ["", ""])
    }

    @Test("quotes only when needed, doubling inner quotes")
    func quoting() {
        #expect(CSVFormat.quoted("plain") == "plain")
        #expect(CSVFormat.quoted("a,b") == "\"a,b\"")
        #expect(CSVFormat.quoted("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVFormat.quoted("two\nlines") == "\"two\nlines\"")
        #expect(CSVFormat.quoted("cr\r") == "\"cr\r\"")
        #expect(CSVFormat.record(["a", "b"]) == "a,b\r\n")
    }

    @Test("a file round-trips quotes, commas, newlines and unicode through an RFC 4180 reader")
    func roundTrip() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let columns = [ReportColumn("Name", .text), ReportColumn("Credits", .credits), ReportColumn("Cost", .money)]
        let names = ["Alpha, \"quoted\"", "Line\nbreak", "Büro 東京 🚀", "CR\r\nLF", ""]
        let url = scratch.url.appendingPathComponent("t.csv")
        let writer = try CSVFileWriter(destination: url, columns: columns)
        for (index, name) in names.enumerated() {
            try writer.append([.text(name), .credits(Credits(Int64(index))), .money(Fixtures.gbp(Int64(index)))])
        }
        #expect(!FileManager.default.fileExists(atPath: url.path), "nothing visible before commit")
        try writer.commit()
        let text = try String(contentsOf: url, encoding: .utf8)
        let records = try #require(CSVReader.parse(text))
        #expect(records[0] == ["Name", "Credits", "Cost", "Cost currency"])
        #expect(records.dropFirst().map { $0[0] } == names)
        #expect(records[2] == ["Line\nbreak", "1", "0.01", "GBP"])
        #expect(try scratch.entries() == ["t.csv"], "no temporary file left")
        #expect(!text.hasPrefix("\u{FEFF}"), "no byte-order mark")
    }

    @Test("a writer dropped without commit leaves no file at all")
    func droppedWriterLeavesNothing() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        do {
            let writer = try CSVFileWriter(destination: scratch.url.appendingPathComponent("x.csv"),
                                           columns: [ReportColumn("A", .text)])
            try writer.append([.text("a")])
        }
        #expect(try scratch.entries().isEmpty)
    }

    @Test("a missing directory is a typed error")
    func missingDirectory() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.url.appendingPathComponent("missing/x.csv")
        #expect {
            try CSVFileWriter(destination: url, columns: [ReportColumn("A", .text)])
        } throws: { error in
            (error as? ReportOutputError)?.code == .directoryMissing
        }
    }
}
