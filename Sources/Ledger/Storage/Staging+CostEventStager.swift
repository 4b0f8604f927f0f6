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
    private let arena = TextArena()

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
        defer {
            sqlite3_reset(statement)
            // No binding may point into the arena once the row is done.
            sqlite3_clear_bindings(statement)
        }
        arena.reset(reserving: Self.textBytes(event))
        var binder = Binder(statement: statement)
        binder.text(event.eventID, in: arena)
        binder.text(event.contentHash, in: arena)
        binder.text(event.organisationID, in: arena)
        binder.text(event.team, in: arena)
        binder.text(event.investigation, in: arena)
        binder.text(event.operation, in: arena)
        binder.integer(event.credits.microcredits)
        binder.text(event.pricing?.quantity, in: arena)
        binder.text(event.pricing?.unit, in: arena)
        binder.integer(event.pricing?.creditsPerUnit.microcredits)
        binder.integer(event.occurredAt.millisecondsSinceEpoch)
        binder.text(event.attributesJSON, in: arena)
        binder.text(event.sourceFile, in: arena)
        binder.integer(Int64(event.sourceLine))
        binder.integer(stagedAt)
        try binder.check(db, sql: insert)
        try step(statement, expecting: SQLITE_DONE, sql: insert)
        if sqlite3_changes(db.sqliteConnection) == 1 { return .staged }
        return try decideAgainstExisting(event)
    }

    /// The UTF-8 bytes of every text parameter of the row (the arena's room).
    private static func textBytes(_ event: StagedCostEvent) -> Int {
        event.eventID.utf8.count + event.contentHash.utf8.count + event.organisationID.utf8.count
            + event.team.utf8.count + (event.investigation?.utf8.count ?? 0) + event.operation.utf8.count
            + (event.pricing?.quantity.utf8.count ?? 0) + (event.pricing?.unit.utf8.count ?? 0)
            + (event.attributesJSON?.utf8.count ?? 0) + event.sourceFile.utf8.count
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

    /// Binds a copy of `value` made in `arena` with SQLITE_STATIC: SQLite reads it in place. With
    /// SQLITE_TRANSIENT it would malloc and free a buffer for every text parameter of every row.
    mutating func text(_ value: String?, in arena: TextArena) {
        index += 1
        guard var value else { return record(sqlite3_bind_null(statement, index)) }
        let copy = value.withUTF8 { arena.copy($0) }
        record(sqlite3_bind_text(statement, index, copy.baseAddress, CInt(copy.count), Self.static))
    }

    static let `static` = unsafeBitCast(0, to: sqlite3_destructor_type.self)

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

/// The text parameters of one row, copied end to end into storage the stager owns, so they can be
/// bound with SQLITE_STATIC. Reset before each row; the statement's bindings are cleared after
/// each row, so nothing points into it once the row is staged.
final class TextArena {
    private var storage: UnsafeMutablePointer<CChar>
    private var capacity: Int
    private var used = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        self.storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Empties the arena and makes room for `bytes` (plus one, so an empty text has an address).
    func reset(reserving bytes: Int) {
        used = 0
        guard bytes + 1 > capacity else { return }
        storage.deallocate()
        capacity = max(bytes + 1, capacity * 2)
        storage = .allocate(capacity: capacity)
    }

    /// Copies `bytes` into the room reserved by `reset`; the copy lives until the next `reset`.
    func copy(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<CChar> {
        precondition(used + bytes.count < capacity, "reset(reserving:) counted every text of the row")
        let start = storage + used
        if let base = bytes.baseAddress {
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { start.update(from: $0, count: bytes.count) }
        }
        used += bytes.count
        return UnsafeBufferPointer(start: start, count: bytes.count)
    }
}
