import Foundation
import Ledger

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 4180 rendering of report cells.
///
/// - UTF-8 without a byte-order mark; records end with CRLF, as RFC 4180 says (every CSV reader
///   we care about, including Excel, LibreOffice, pandas and Python's csv module, accepts it).
/// - A field is quoted only when it contains a comma, a double quote, CR or LF; quotes inside are
///   doubled.
/// - Numbers are plain decimals with `.` and no thousands separators: credits with up to six
///   decimals and no trailing zeros (`12.5`), money with exactly its currency's decimals (`12.50`)
///   followed by a currency column; dates `2026-11-01`; instants `2026-11-23T10:00:00.000Z`.
/// - Formula injection: free text (`.text` cells only) whose first character is `=`, `+`, `-`, `@`,
///   TAB or CR gets a single quote (`'`) in front, so a spreadsheet shows it as text. Numbers are
///   never touched: a negative amount stays `-12.50`.
/// - Only data rows: totals rows are an XLSX presentation, and a CSV total would be summed twice
///   by anyone who sums the column.
public enum CSVFormat {
    /// The record separator (RFC 4180).
    public static let lineEnding = "\r\n"

    /// The header fields for `columns`: a money column is followed by `<title> currency`.
    public static func header(_ columns: [ReportColumn]) -> [String] {
        columns.flatMap { column in
            column.kind == .money ? [column.title, column.title + " currency"] : [column.title]
        }
    }

    /// The fields of one cell, before quoting: two for money (amount, currency), one otherwise.
    public static func fields(_ cell: ReportCell, kind: ReportColumnKind) -> [String] {
        switch cell {
        case .text(let text): [neutralised(text)]
        case .integer(let value): [String(value)]
        case .credits(let value): [value.description]
        case .money(let value): [value.amountText, value.currency.code]
        case .decimal(let value): [value.description]
        case .date(let value): [value.description]
        case .instant(let value): [value.iso8601]
        case .empty: kind == .money ? ["", ""] : [""]
        }
    }

    /// Free text made safe to open in a spreadsheet: a leading `'` before `=`, `+`, `-`, `@`, TAB, CR.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// A field quoted if (and only if) it contains a comma, a double quote, CR or LF.
    public static func quoted(_ field: String) -> String {
        guard field.utf8.contains(where: needsQuotes) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Comma, double quote, CR, LF.
    private static func needsQuotes(_ byte: UInt8) -> Bool {
        let specials: [UInt8] = [0x2C, 0x22, 0x0D, 0x0A]
        return specials.contains(byte)
    }

    /// One complete record with its line ending.
    public static func record(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + lineEnding
    }

    /// The record for a row of cells under `columns`.
    public static func record(_ row: [ReportCell], columns: [ReportColumn]) -> String {
        record(zip(row, columns).flatMap { fields($0, kind: $1.kind) })
    }
}

/// A CSV file written row by row to a temporary file and renamed into place by `commit()`; if it
/// is dropped without `commit()`, or any write fails, no file appears at the destination.
public final class CSVFileWriter {
    private let file: AtomicFile
    private let descriptor: Int32
    private let columns: [ReportColumn]
    private var buffer: [UInt8] = []
    private var isClosed = false
    /// Flush to the kernel in chunks of this size.
    static let bufferBytesMax = 1 << 16

    /// The final path of the file.
    public var destination: URL { file.destination }

    /// Creates the temporary file and writes the header row.
    public init(destination: URL, columns: [ReportColumn]) throws(ReportOutputError) {
        precondition(!columns.isEmpty, "a CSV file needs columns")
        let file = try AtomicFile(destination: destination)
        let descriptor = open(file.temporaryPath, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(.ioFailed, path: destination.path, "open") }
        self.file = file
        self.descriptor = descriptor
        self.columns = columns
        buffer.reserveCapacity(Self.bufferBytesMax)
        try emit(CSVFormat.record(CSVFormat.header(columns)))
    }

    deinit {
        if !isClosed { close(descriptor) }
        file.discard()
    }

    /// Appends one data row; the cells must match the columns' kinds.
    public func append(_ row: [ReportCell]) throws(ReportOutputError) {
        precondition(!isClosed, "CSV file already committed")
        precondition(row.count == columns.count, "row has \(row.count) cells for \(columns.count) columns")
        try emit(CSVFormat.record(row, columns: columns))
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws(ReportOutputError) {
        precondition(!isClosed, "CSV file committed twice")
        try flush()
        isClosed = true
        guard close(descriptor) == 0 else {
            file.discard()
            throw .system(.ioFailed, path: destination.path, "close")
        }
        try file.commit()
    }

    private func emit(_ text: String) throws(ReportOutputError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.bufferBytesMax { try flush() }
    }

    private func flush() throws(ReportOutputError) {
        var offset = 0
        while offset < buffer.count {
            let count = buffer[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .system(.ioFailed, path: destination.path, "write") }
            offset += count
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
