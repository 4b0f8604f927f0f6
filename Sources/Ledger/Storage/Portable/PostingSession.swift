import GRDB
import GRDBSQLite

/// Portable SQL (`SQLSession`) as posting runs it, on either store, inside the write transaction the
/// caller opened (`LedgerTransaction`).
///
/// Posting runs the same few statements once or more per transfer, hundreds of thousands of times in a
/// night's apply. So their parameters are bound straight into the store's statement (`SQLBinder`) and
/// their rows are read in place: on SQLite, building argument arrays and GRDB rows per statement was a
/// sixth of posting (issue 13). And what the stores do differently for concurrent writers is said here
/// once: `lockOrganisation`.
protocol PostingSession: SQLSession, PointQuerySource {
    /// Runs one statement whose parameters `bind` sets; how many rows it inserted, updated or deleted.
    @discardableResult
    func run(_ sql: String, bind: (inout SQLBinder) -> Void) throws -> Int
    /// Runs one query whose parameters `bind` sets and hands its first row to `read`; nil when it has none.
    func first<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> Value?
    /// Runs one query whose parameters `bind` sets and hands `body` each row (valid during its call only),
    /// streaming: for results of any size (a night's staged events).
    func forEach(_ sql: String, bind: (inout SQLBinder) -> Void, _ body: (any SQLColumns) throws -> Void) throws
    /// Runs one query whose parameters `bind` sets and maps every row with `read`, at once: for results of a
    /// few rows, usually none (one round trip on PostgreSQL, where `forEach` opens a cursor).
    func all<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> [Value]
    /// Makes this transaction the only one that may change the organisation's balance, grants and holds
    /// until it ends. Posting calls it before it reads what it decides on (the organisation's balance,
    /// grants and running balance), so two writers never decide on the same state: on PostgreSQL a row
    /// lock on the organisation (`SELECT ... FOR UPDATE`), which a second replica posting for it waits on;
    /// on SQLite nothing, as a write transaction already excludes every other writer.
    func lockOrganisation(_ organisationID: String) throws
    /// Makes this transaction the only one adding transfers, grants and draws until it ends, so it may
    /// number them itself (`LedgerRowIDs`): on PostgreSQL a transaction-scoped advisory lock, on SQLite
    /// nothing (its write transaction already is the only one).
    func lockRowNumbering() throws
}

/// A statement's parameters, in order: bound into SQLite's prepared statement as they are added, or
/// collected for PostgreSQL's bind message.
struct SQLBinder {
    private var sqlite: SQLiteBindings?
    private(set) var values: [SQLValue] = []

    init(sqlite: SQLiteBindings) {
        self.sqlite = sqlite
    }

    fileprivate init() {}

    mutating func add(_ value: Int64?) {
        if sqlite != nil { sqlite!.add(value) } else { values.append(SQLValue(value)) }
    }

    mutating func add(_ value: String?) {
        if sqlite != nil { sqlite!.add(value) } else { values.append(SQLValue(value)) }
    }

    /// The SQLite bindings, checked: every parameter bound, every bind succeeded.
    func checked(sql: String) throws -> SQLiteStatement {
        guard let sqlite else { preconditionFailure("only a SQLite binder has a statement") }
        try sqlite.check(sql: sql)
        return sqlite.statement
    }
}

extension Database: PostingSession {
    func run(_ sql: String, bind: (inout SQLBinder) -> Void) throws -> Int {
        let handle = try bound(sql, bind)
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw DatabaseError(statement: handle, code: code, sql: sql) }
        return changesCount
    }

    func first<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> Value?
    {
        let handle = try bound(sql, bind)
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return try read(SQLiteRow(statement: handle))
        case SQLITE_DONE: return nil
        case let code: throw DatabaseError(statement: handle, code: code, sql: sql)
        }
    }

    func forEach(_ sql: String, bind: (inout SQLBinder) -> Void, _ body: (any SQLColumns) throws -> Void) throws {
        let handle = try bound(sql, bind)
        defer { sqlite3_reset(handle) }
        let row = SQLiteRow(statement: handle)
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: try body(row)
            case SQLITE_DONE: return
            case let code: throw DatabaseError(statement: handle, code: code, sql: sql)
            }
        }
    }

    func all<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> [Value]
    {
        var values: [Value] = []
        try forEach(sql, bind: bind) { values.append(try read($0)) }
        return values
    }

    func lockOrganisation(_ organisationID: String) throws {}

    func lockRowNumbering() throws {}

    /// The connection's cached statement for `sql`, reset, with every parameter bound by `bind`.
    private func bound(_ sql: String, _ bind: (inout SQLBinder) -> Void) throws -> SQLiteStatement {
        let handle = try cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(handle)
        var binder = SQLBinder(sqlite: SQLiteBindings(statement: handle))
        bind(&binder)
        return try binder.checked(sql: sql)
    }
}

extension PostgresSession: PostingSession {
    func run(_ sql: String, bind: (inout SQLBinder) -> Void) throws -> Int {
        var binder = SQLBinder()
        bind(&binder)
        return try result(of: PostgresDialect.query(sql, binder.values)).metadata.rows ?? 0
    }

    func first<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> Value?
    {
        var binder = SQLBinder()
        bind(&binder)
        return try records(sql, binder.values).first.map(read)
    }

    /// Through a cursor, a page of rows at a time (`forEachRow`): a night's staged events are streamed,
    /// not held.
    func forEach(_ sql: String, bind: (inout SQLBinder) -> Void, _ body: (any SQLColumns) throws -> Void) throws {
        var binder = SQLBinder()
        bind(&binder)
        try forEachRow(sql, binder.values, body)
    }

    func all<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> [Value]
    {
        var binder = SQLBinder()
        bind(&binder)
        return try records(sql, binder.values).map(read)
    }

    func lockOrganisation(_ organisationID: String) throws {
        guard try record("SELECT 1 FROM organisations WHERE id = ? FOR UPDATE", [.text(organisationID)]) != nil else {
            throw PostingRejection.organisationNotFound(organisationID)
        }
    }

    func lockRowNumbering() throws {
        try execute("SELECT pg_advisory_xact_lock(\(PostgresSchema.rowNumberingLockKey))")
    }
}
