import GRDB
import GRDBSQLite

/// Stages cost events one by one through two prepared statements bound with the SQLite C API.
///
/// Why not `Statement.execute(arguments:)`: ingest stages a million events per file, and building
/// `StatementArguments` (an array of boxed `DatabaseValue`s per row) cost about as much as the
/// insert itself (STACK.md 4(a): 200k rows/s through GRDB, 250-300k with raw binds). The SQL and
/// the staged/duplicate/conflict rule are the same as before; only the binding changed.
///
/// A stager lives inside one write transaction (`LedgerTransaction.costEventStager()`) and must
/// not outlive it. Each call is decided against everything staged before it, including earlier
/// calls in the same transaction.
public struct CostEventStager {
    private let db: Database
    private let insert: Statement
    private let existing: Statement
    private let stagedAt: Int64

    init(db: Database, now: Instant) throws {
        self.db = db
        self.insert = try db.cachedStatement(sql: """
            INSERT INTO cost_events (event_id, content_hash, organisation_id, team, investigation, operation, credits,
                quantity, unit, rate, occurred_at, attributes, source_file, source_line, staged_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(event_id) DO NOTHING
            """)
        self.existing = try db.cachedStatement(
            sql: "SELECT content_hash, source_file, source_line FROM cost_events WHERE event_id = ?")
        self.stagedAt = now.millisecondsSinceEpoch
    }

    /// Stages one event: `.staged` when its id is new, else `.duplicate` (same content hash) or
    /// `.conflict` naming where the first one came from (it stands).
    public func stage(_ event: StagedCostEvent) throws -> StagingOutcome {
        precondition(event.credits.isPositive, "staged credits are validated positive")
        let statement = insert.sqliteStatement
        defer { sqlite3_reset(statement) }
        var binder = Binder(statement: statement)
        binder.text(event.eventID)
        binder.text(event.contentHash)
        binder.text(event.organisationID)
        binder.text(event.team)
        binder.text(event.investigation)
        binder.text(event.operation)
        binder.integer(event.credits.microcredits)
        binder.text(event.pricing?.quantity)
        binder.text(event.pricing?.unit)
        binder.integer(event.pricing?.creditsPerUnit.microcredits)
        binder.integer(event.occurredAt.millisecondsSinceEpoch)
        binder.text(event.attributesJSON)
        binder.text(event.sourceFile)
        binder.integer(Int64(event.sourceLine))
        binder.integer(stagedAt)
        try binder.check(db, sql: insert)
        try step(statement, expecting: SQLITE_DONE, sql: insert)
        if sqlite3_changes(db.sqliteConnection) == 1 { return .staged }
        return try decideAgainstExisting(event)
    }

    /// The id is taken: compare content hashes with the event that holds it.
    private func decideAgainstExisting(_ event: StagedCostEvent) throws -> StagingOutcome {
        let statement = existing.sqliteStatement
        defer { sqlite3_reset(statement) }
        var binder = Binder(statement: statement)
        binder.text(event.eventID)
        try binder.check(db, sql: existing)
        try step(statement, expecting: SQLITE_ROW, sql: existing)
        let hash = String(cString: sqlite3_column_text(statement, 0))
        if hash == event.contentHash { return .duplicate }
        let source = String(cString: sqlite3_column_text(statement, 1))
        return .conflict(existingSource: source, existingLine: Int(sqlite3_column_int64(statement, 2)))
    }

    private func step(_ statement: OpaquePointer, expecting expected: CInt, sql: Statement) throws {
        let code = sqlite3_step(statement)
        guard code == expected else {
            if code == SQLITE_DONE, expected == SQLITE_ROW {
                preconditionFailure("a cost event conflicted on its id but is not staged")
            }
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql.sql)
        }
    }
}

/// Binds parameters 1, 2, ... in order, remembering the first failure (a bind fails only for
/// out-of-memory or a programming error, so checking once per row keeps the call sites flat).
private struct Binder {
    let statement: OpaquePointer
    var index: CInt = 0
    var failure: CInt = SQLITE_OK

    /// SQLite copies the bytes (SQLITE_TRANSIENT, into a buffer it reuses between rows), so the
    /// Swift string need only live for the call.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(statement: OpaquePointer) {
        self.statement = statement
    }

    mutating func text(_ value: String?) {
        index += 1
        guard var value else { return record(sqlite3_bind_null(statement, index)) }
        // An empty buffer may have no base address, which SQLite would bind as NULL, not "".
        if value.isEmpty { return record(sqlite3_bind_text(statement, index, "", 0, Self.transient)) }
        let code = value.withUTF8 { utf8 in
            sqlite3_bind_text(statement, index, utf8.baseAddress, CInt(utf8.count), Self.transient)
        }
        record(code)
    }

    mutating func integer(_ value: Int64?) {
        index += 1
        guard let value else { return record(sqlite3_bind_null(statement, index)) }
        record(sqlite3_bind_int64(statement, index, value))
    }

    private mutating func record(_ code: CInt) {
        if failure == SQLITE_OK, code != SQLITE_OK { failure = code }
    }

    func check(_ db: Database, sql: Statement) throws {
        precondition(index == sqlite3_bind_parameter_count(statement), "every parameter is bound")
        guard failure == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: failure), message: db.lastErrorMessage, sql: sql.sql)
        }
    }
}
