import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// The ledger digest's input, written row by row straight from SQLite into the hash: each row one
/// line, its columns separated by tabs, NULL as `\N`, integers in decimal, text as Swift's
/// `String(reflecting:)` gives it (quoted, escaped). These are exactly the bytes the digest was
/// first defined on (GRDB's `DatabaseValue.description` of each column), so the digest of every
/// existing ledger stays what it was; `CanonicalDumpTests` holds that definition as the oracle.
///
/// Why not through GRDB's rows: building a `DatabaseValue` array and a `String` per row was more
/// than half of `ledger verify` at a million transfers.
struct CanonicalDump {
    private var hasher = SHA256()
    private var buffer: [UInt8] = []

    init() {
        buffer.reserveCapacity(Self.chunk + 4_096)
    }

    /// Appends every row `sql` returns, in its order.
    mutating func feed(_ sql: String, from db: Database) throws {
        let statement = try db.makeStatement(sql: sql)
        let handle = statement.sqliteStatement
        let columns = sqlite3_column_count(handle)
        sqlite3_reset(handle)
        defer { sqlite3_reset(handle) }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW:
                for column in 0..<columns {
                    if column > 0 { buffer.append(UInt8(ascii: "\t")) }
                    append(column: column, of: handle)
                }
                endRow()
            case SQLITE_DONE:
                return
            case let code:
                throw DatabaseError(statement: handle, code: code, sql: sql)
            }
        }
    }

    // The row source is pluggable: SQLite feeds the columns above through the C API, PostgreSQL through
    // `feed(_:from:)` in Storage/Postgres. Both write each value with these, so a ledger's bytes, and so
    // its digest, are the same whichever store holds it.

    /// Starts column `index` of the current row (a tab before every column but the first).
    mutating func beginColumn(_ index: Int) {
        if index > 0 { buffer.append(UInt8(ascii: "\t")) }
    }

    mutating func appendNull() {
        buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
    }

    mutating func appendInteger(_ value: Int64) {
        buffer.append(contentsOf: String(value).utf8)
    }

    /// A text value's UTF-8 bytes, up to the first NUL, quoted as `String(reflecting:)` quotes it.
    mutating func appendText(_ all: UnsafeBufferPointer<UInt8>) {
        let bytes = UnsafeBufferPointer(rebasing: all[..<(all.firstIndex(of: 0) ?? all.endIndex)])
        if bytes.allSatisfy(Self.quotesAsItself) {
            buffer.append(UInt8(ascii: "\""))
            buffer.append(contentsOf: bytes)
            buffer.append(UInt8(ascii: "\""))
        } else {
            buffer.append(contentsOf: String(reflecting: String(decoding: bytes, as: UTF8.self)).utf8)
        }
    }

    /// Ends the current row.
    mutating func endRow() {
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= Self.chunk { flush() }
    }

    /// The hex SHA-256 of everything fed.
    mutating func finalize() -> String {
        flush()
        return ContentHash.hex(hasher.finalize())
    }

    private static let chunk = 64 * 1_024

    private mutating func flush() {
        hasher.update(data: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func append(column: Int32, of handle: SQLiteStatement) {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL:
            appendNull()
        case SQLITE_INTEGER:
            appendInteger(sqlite3_column_int64(handle, column))
        case SQLITE_TEXT:
            // Read up to the first NUL, as GRDB read the text (a C string) when the digest was defined.
            let count = Int(sqlite3_column_bytes(handle, column))
            appendText(UnsafeBufferPointer(start: sqlite3_column_text(handle, column), count: count))
        default:
            // Reals and blobs: no digested column holds one; described as GRDB describes them.
            buffer.append(contentsOf: DatabaseValue(sqliteStatement: handle, index: column).description.utf8)
        }
    }

    /// Printable ASCII other than the quote and the backslash, which `String(reflecting:)` leaves as is.
    private static func quotesAsItself(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }
}
