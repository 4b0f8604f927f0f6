/// Where ledger code runs SQL written once for both stores: a SQLite connection (GRDB's `Database`) or a
/// PostgreSQL connection (`PostgresSession`), inside whatever transaction the caller opened.
///
/// The portable dialect, which both stores accept as written:
/// - parameters are `?` (bound in order) or `?N` (bound by number), never both in one statement;
///   PostgreSQL gets them as `$N`;
/// - text that is ordered or compared by order says `COLLATE BINARY` (byte order, SQLite's default);
///   PostgreSQL gets `COLLATE "C"`, the same order;
/// - values are integers (credits, money, instants, ids: the same exact `Int64`s on both) and text;
///   a boolean (`EXISTS`) comes back as an integer; an integer `SUM`, which PostgreSQL widens to
///   `numeric`, is cast back: `CAST(SUM(x) AS BIGINT)` (a `numeric` column is refused);
/// - `IS DISTINCT FROM` rather than SQLite's `IS NOT`, `ON CONFLICT (...) DO ...` for upserts, no
///   function one of the two lacks.
///
/// `records` brings a statement's rows back whole (configuration, one organisation's balance, a page of
/// history); `forEachRow` streams them. The hot paths of one store (the live gate's prepared
/// SQLite statements, PostgreSQL's `COPY`) keep their own code and share SQL text and row mapping with
/// this where they can (`PointQueries`).
protocol SQLSession {
    /// Runs one statement and discards its rows.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    /// Runs one query and returns every row.
    func records(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRecord]
    /// Runs one query and hands `body` each row as it is read: memory holds a page of rows at most, never
    /// the whole result (an organisation's transfers of a month, for an audit statement or a report's
    /// detail). A row is valid only during its call (SQLite's is the cursor's own, not a copy).
    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (any SQLColumns) throws -> Void) throws
}

extension SQLSession {
    func execute(_ sql: String) throws {
        try execute(sql, [])
    }

    /// The first row, if any.
    func record(_ sql: String, _ arguments: [SQLValue] = []) throws -> SQLRecord? {
        try records(sql, arguments).first
    }

    /// The first column of the first row, as an integer; nil when there is no row or it is NULL.
    func integer(_ sql: String, _ arguments: [SQLValue] = []) throws -> Int64? {
        try record(sql, arguments)?.int64OrNil(0)
    }

    /// The first column of every row, as text.
    func strings(_ sql: String, _ arguments: [SQLValue] = []) throws -> [String] {
        try records(sql, arguments).map { $0.text(0) }
    }
}

/// A value bound to, or read from, portable SQL.
enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)

    init(_ text: String?) {
        self = text.map(SQLValue.text) ?? .null
    }

    init(_ integer: Int64?) {
        self = integer.map(SQLValue.integer) ?? .null
    }

    init(_ integer: Int) {
        self = .integer(Int64(integer))
    }
}

/// A row's columns by position, whichever store read it. Column types are those the schema declares, so
/// a mismatch is a bug in the query, not bad input.
protocol SQLColumns {
    func int64(_ column: Int32) -> Int64
    func int64OrNil(_ column: Int32) -> Int64?
    func text(_ column: Int32) -> String
    func textOrNil(_ column: Int32) -> String?
}

/// One row a `SQLSession` query returned.
struct SQLRecord: SQLColumns, Sendable {
    let values: [SQLValue]

    func int64OrNil(_ column: Int32) -> Int64? {
        switch values[Int(column)] {
        case .null: return nil
        case .integer(let value): return value
        case .text(let text): preconditionFailure("column \(column) holds text (\(text.prefix(40))), not an integer")
        }
    }

    func int64(_ column: Int32) -> Int64 {
        guard let value = int64OrNil(column) else { preconditionFailure("column \(column) is NULL, not an integer") }
        return value
    }

    func textOrNil(_ column: Int32) -> String? {
        switch values[Int(column)] {
        case .null: return nil
        case .text(let text): return text
        case .integer(let value): preconditionFailure("column \(column) holds an integer (\(value)), not text")
        }
    }

    func text(_ column: Int32) -> String {
        guard let value = textOrNil(column) else { preconditionFailure("column \(column) is NULL, not text") }
        return value
    }
}

extension SQLiteRow: SQLColumns {}
