import NIOCore
import Testing
@testable import Ledger

/// Goal: rows in COPY's text format are what PostgreSQL reads back as the same values (the
/// PostgreSQL tests prove it end to end; these pin the encoding without a server): escapes only
/// where the format needs them, runs of plain bytes as they are, NULL, integers and bytea.
struct CopyTextTests {
    func row(_ build: (inout CopyTextRow) throws -> Void) rethrows -> String {
        var row = CopyTextRow(into: ByteBuffer())
        try build(&row)
        row.endRow()
        return String(buffer: row.buffer)
    }

    @Test func text_isEscapedOnlyWhereTheFormatNeedsIt() throws {
        #expect(try row { try $0.append("plain ünïcode \"quoted\"") } == "plain ünïcode \"quoted\"\n")
        #expect(try row { try $0.append("tab\there\\back\nnew\rret") } == "tab\\there\\\\back\\nnew\\rret\n")
        #expect(try row { try $0.append("\\") } == "\\\\\n")
        #expect(try row { try $0.append("") } == "\n", "empty text is not NULL")
        #expect(try row { try $0.append(String?.none) } == "\\N\n")
    }

    @Test func columns_areSeparatedByTabs_andIntegersAndBytesHaveTheirForms() throws {
        let text = try row {
            $0.append(Int64(-42))
            $0.append(Int64?.none)
            try $0.append("x")
            $0.append(bytea: [0x00, 0xAB, 0xFF])
        }
        #expect(text == "-42\t\\N\tx\t\\\\x00abff\n")
    }

    @Test func aNULByte_isRefused() {
        #expect(throws: CopyTextRow.NULInText.self) { try row { try $0.append("before\u{0}after") } }
    }
}
