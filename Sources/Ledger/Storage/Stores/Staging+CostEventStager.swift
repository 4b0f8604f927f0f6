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
/// not outlive it, nor a savepoint rolled back under it (it remembers the ids of the source file
/// names it recorded). Each call is decided against everything staged before it, including earlier
/// calls in the same transaction.
public struct CostEventStager {
    private let db: Database
    private let insert: Statement
    private let existing: Statement
    private let stagedAt: Int64
    private let arena = TextArena()
    private let sourceFiles: SourceFileIDs

    init(db: Database, now: Instant) throws {
        self.db = db
        self.insert = try db.cachedStatement(sql: Self.insertSQL)
        self.existing = try db.cachedStatement(sql: Self.existingSQL)
        self.stagedAt = now.millisecondsSinceEpoch
        self.sourceFiles = SourceFileIDs(db: db)
    }

    private static let insertSQL = """
        INSERT INTO cost_events (event_id, content_sha256, organisation_id, team, investigation, operation, credits,
            quantity, unit, rate, occurred_at, attributes, source_file_id, source_line, staged_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(event_id) DO NOTHING
        """
    private static let existingSQL = """
        SELECT e.content_sha256, f.name, e.source_line
        FROM cost_events e JOIN source_files f ON f.id = e.source_file_id
        WHERE e.event_id = ?
        """

    /// Stages one event: `.staged` when its id is new, else `.duplicate` (same content digest) or
    /// `.conflict` naming where the first one came from (it stands).
    public func stage(_ event: StagedCostEvent) throws -> StagingOutcome {
        precondition(event.credits.isPositive, "staged credits are validated positive")
        let sourceFileID = try sourceFiles.id(of: event.sourceFile)
        let statement = insert.sqliteStatement
        defer {
            sqlite3_reset(statement)
            // No binding may point into the arena once the row is done.
            sqlite3_clear_bindings(statement)
        }
        arena.reset(reserving: Self.boundBytes(event))
        var row = SQLiteBindings(statement: statement)
        row.add(event.eventID, in: arena)
        row.add(event.contentSHA256, in: arena)
        row.add(event.organisationID, in: arena)
        row.add(event.team, in: arena)
        row.add(event.investigation, in: arena)
        row.add(event.operation, in: arena)
        row.add(event.credits.microcredits)
        row.add(event.pricing?.quantity, in: arena)
        row.add(event.pricing?.unit, in: arena)
        row.add(event.pricing?.creditsPerUnit.microcredits)
        row.add(event.occurredAt.millisecondsSinceEpoch)
        row.add(event.attributesJSON, in: arena)
        row.add(sourceFileID)
        row.add(Int64(event.sourceLine))
        row.add(stagedAt)
        try row.check(sql: Self.insertSQL)
        try step(statement, expecting: SQLITE_DONE, sql: Self.insertSQL)
        if sqlite3_changes(db.sqliteConnection) == 1 { return .staged }
        return try decideAgainstExisting(event)
    }

    /// The bytes of every text and blob parameter of the row (the arena's room).
    private static func boundBytes(_ event: StagedCostEvent) -> Int {
        event.eventID.utf8.count + ContentDigest.byteCount + event.organisationID.utf8.count
            + event.team.utf8.count + (event.investigation?.utf8.count ?? 0) + event.operation.utf8.count
            + (event.pricing?.quantity.utf8.count ?? 0) + (event.pricing?.unit.utf8.count ?? 0)
            + (event.attributesJSON?.utf8.count ?? 0)
    }

    /// The id is taken: compare content hashes with the event that holds it.
    private func decideAgainstExisting(_ event: StagedCostEvent) throws -> StagingOutcome {
        let statement = existing.sqliteStatement
        defer { sqlite3_reset(statement) }
        var row = SQLiteBindings(statement: statement)
        row.add(event.eventID)
        try row.check(sql: Self.existingSQL)
        try step(statement, expecting: SQLITE_ROW, sql: Self.existingSQL)
        let stored = ContentDigest(rawBytes: UnsafeRawBufferPointer(
            start: sqlite3_column_blob(statement, 0), count: Int(sqlite3_column_bytes(statement, 0))))
        guard let stored else { preconditionFailure("cost_events.content_sha256 is 32 bytes (CHECK)") }
        return .ofRepeat(
            event.contentSHA256, held: stored, source: String(cString: sqlite3_column_text(statement, 1)),
            line: Int(sqlite3_column_int64(statement, 2)))
    }

    private func step(_ statement: OpaquePointer, expecting expected: CInt, sql: String) throws {
        let code = sqlite3_step(statement)
        guard code == expected else {
            if code == SQLITE_DONE, expected == SQLITE_ROW {
                preconditionFailure("a cost event conflicted on its id but is not staged")
            }
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: sql)
        }
    }
}

/// The ids of source file names in `source_files`, each inserted the first time a stager meets it.
/// Remembers the last name: a file's events all share one.
private final class SourceFileIDs {
    private let db: Database
    private var last: (name: String, id: Int64)?

    init(db: Database) {
        self.db = db
    }

    func id(of name: String) throws -> Int64 {
        if let last, last.name == name { return last.id }
        // Cached statements: the live route makes a stager per event, all with one name.
        let id: Int64
        if let known = try Int64.fetchOne(db, cached: "SELECT id FROM source_files WHERE name = ?", arguments: [name]) {
            id = known
        } else {
            try db.cachedStatement(sql: "INSERT INTO source_files (name) VALUES (?)").execute(arguments: [name])
            id = db.lastInsertedRowID
        }
        last = (name, id)
        return id
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
