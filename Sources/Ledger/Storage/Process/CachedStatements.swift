import GRDB
import GRDBSQLite

// The posting hot path runs the same few statements once per transfer, often hundreds of
// thousands of times in one transaction; preparing the SQL each time would dominate. These
// helpers keep the call shape of GRDB's `sql:` variants but go through the connection's cache of
// prepared statements. Use them only with constant SQL (dynamic SQL would grow the cache).

extension Database {
    func executeCached(sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

extension Row {
    static func fetchOne(_ db: Database, cached sql: String, arguments: StatementArguments = []) throws -> Row? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(_ db: Database, cached sql: String, arguments: StatementArguments = []) throws -> [Row] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension DatabaseValueConvertible {
    static func fetchOne(_ db: Database, cached sql: String, arguments: StatementArguments = []) throws -> Self? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(_ db: Database, cached sql: String, arguments: StatementArguments = []) throws -> [Self] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension Database {
    /// Runs a cached statement whose parameters `bind` sets with `sqlite3_bind_*` directly.
    ///
    /// For the statements posting runs once or twice per transfer: building `StatementArguments`
    /// (an array of `DatabaseValue`s) cost about a microsecond a statement, a sixth of posting.
    /// Only for statements that return no rows and are run nowhere else through GRDB.
    func executeCached(sql: String, bind: (inout SQLiteBindings) -> Void) throws {
        let handle = try boundCachedStatement(sql: sql, bind: bind)
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw DatabaseError(statement: handle, code: code, sql: sql) }
    }

    /// The connection's cached statement for `sql`, reset, with every parameter bound by `bind`
    /// (checked): what `executeCached(sql:bind:)`, `fetchFirstCached` and `forEachRowCached` step.
    private func boundCachedStatement(sql: String, bind: (inout SQLiteBindings) -> Void) throws -> SQLiteStatement {
        let handle = try cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(handle)
        var bindings = SQLiteBindings(statement: handle)
        bind(&bindings)
        try bindings.check(sql: sql)
        return handle
    }
}

/// Binds a statement's parameters in order, remembering the first bind that failed (only out of
/// memory or misuse can fail; `check` turns it into an error, so a value is never silently NULL).
struct SQLiteBindings {
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    private static let `static` = unsafeBitCast(0, to: sqlite3_destructor_type.self)
    let statement: SQLiteStatement
    private(set) var count: Int32 = 0
    private var firstFailure: Int32 = SQLITE_OK

    init(statement: SQLiteStatement) {
        self.statement = statement
    }

    mutating func add(_ value: Int64?) {
        count += 1
        guard let value else { return record(sqlite3_bind_null(statement, count)) }
        record(sqlite3_bind_int64(statement, count, value))
    }

    mutating func add(_ value: String?) {
        count += 1
        guard var value else { return record(sqlite3_bind_null(statement, count)) }
        let index = count
        let code = value.withUTF8 { bytes in
            if let start = bytes.baseAddress {
                let text = UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)
                return sqlite3_bind_text(statement, index, text, Int32(bytes.count), Self.transient)
            }
            return sqlite3_bind_text(statement, index, "", 0, Self.transient)  // '' is text, not NULL
        }
        record(code)
    }

    /// Binds a copy of `value` made in `arena` with SQLITE_STATIC, so SQLite reads it in place:
    /// with SQLITE_TRANSIENT it mallocs and frees a buffer per text parameter per row. The caller
    /// clears the statement's bindings before the arena is reset.
    mutating func add(_ value: String?, in arena: TextArena) {
        count += 1
        guard var value else { return record(sqlite3_bind_null(statement, count)) }
        let copy = value.withUTF8 { arena.copy($0) }
        record(sqlite3_bind_text(statement, count, copy.baseAddress, Int32(copy.count), Self.static))
    }

    /// Binds a copy of the digest's 32 bytes made in `arena` as a BLOB, with SQLITE_STATIC (see
    /// `add(_:in:)` for text).
    mutating func add(_ digest: ContentDigest, in arena: TextArena) {
        count += 1
        let copy = digest.withUnsafeBytes { arena.copy($0.assumingMemoryBound(to: UInt8.self)) }
        record(sqlite3_bind_blob(statement, count, copy.baseAddress, Int32(copy.count), Self.static))
    }

    private mutating func record(_ code: Int32) {
        if firstFailure == SQLITE_OK, code != SQLITE_OK { firstFailure = code }
    }

    /// Every parameter bound, and every bind succeeded.
    func check(sql: String) throws {
        precondition(count == sqlite3_bind_parameter_count(statement), "\(sql): every parameter must be bound")
        guard firstFailure == SQLITE_OK else {
            throw DatabaseError(statement: statement, code: firstFailure, sql: sql)
        }
    }
}
