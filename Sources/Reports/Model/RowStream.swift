import Ledger

/// Rows streamed so a million never sit in memory: `count` rows (known first, e.g. from
/// `COUNT(*)` in the same read transaction, since the XLSX writer splits a sheet at the row
/// limit) delivered one by one to `body`. A stream reading through a `LedgerReader` must be
/// consumed inside the same `read` call.
public struct RowStream<Row> {
    public var count: Int
    public var forEach: ((Row) throws -> Void) throws -> Void

    public init(count: Int, forEach: @escaping ((Row) throws -> Void) throws -> Void) {
        self.count = count
        self.forEach = forEach
    }

    /// A stream over an array (tests, small reports).
    public init(_ rows: [Row]) {
        self.init(count: rows.count) { body in for row in rows { try body(row) } }
    }
}
