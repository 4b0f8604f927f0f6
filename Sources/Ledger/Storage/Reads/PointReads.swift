import GRDB
import GRDBSQLite
import Synchronization

/// The live service's per-request point reads, on read-only SQLite connections of their own.
///
/// Every authenticated request looks up its API key, and the GraphQL balance query and the credit
/// gate each read one balance. Each is a single statement that takes a few microseconds in SQLite.
/// Through GRDB's reader pool each read also paid for a reader checkout (a semaphore, a dispatch
/// group and two locks), a hop onto the reader's dispatch queue, a statement-cache lookup keyed by
/// the SQL text and row decoding by column name. Measured under load, that was more than half of
/// every such read. Here a read takes an idle connection from a list under a mutex, runs a statement
/// that connection prepared once, and puts the connection back.
///
/// The statements run outside any transaction: each sees the latest commit on its own, and each is
/// one statement, so its answer is consistent by itself (see `PointQueries`). A connection is used by
/// one thread at a time; there are as many as reads ever ran at once, which is bounded by the threads
/// that call (a read never suspends).
final class PointReadConnections: Sendable {
    private let path: String
    private let idle = Mutex<[PointReadConnection]>([])

    init(path: String) {
        self.path = path
    }

    func withConnection<T>(_ body: (PointReadConnection) throws -> T) throws -> T {
        let connection = try idle.withLock { $0.popLast() } ?? PointReadConnection(path: path)
        defer { idle.withLock { $0.append(connection) } }
        return try body(connection)
    }
}

/// One read-only SQLite connection and the statements it has prepared, by SQL text.
///
/// `@unchecked Sendable`: `PointReadConnections` hands a connection to one caller at a time, so its
/// statement cache is never touched by two threads at once.
final class PointReadConnection: PointQuerySource, @unchecked Sendable {
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    init(path: String) throws {
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) }
            sqlite3_close_v2(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, Int32(LedgerDatabase.busyTimeoutSeconds * 1000))
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs the statement this connection prepared for `sql`, reset before and after (so it never holds a
    /// read lock between calls).
    func all<Value>(_ sql: String, bind: (inout SQLBinder) -> Void, read: (any SQLColumns) throws -> Value) throws
        -> [Value]
    {
        let statement = try preparedStatement(sql)
        sqlite3_reset(statement)
        defer { sqlite3_reset(statement) }
        var binder = SQLBinder(sqlite: SQLiteBindings(statement: statement))
        bind(&binder)
        _ = try binder.checked(sql: sql)
        let row = SQLiteRow(statement: statement)
        var values: [Value] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: values.append(try read(row))
            case SQLITE_DONE: return values
            case let code: throw DatabaseError(statement: statement, code: code, sql: sql)
            }
        }
    }

    private func preparedStatement(_ sql: String) throws -> SQLiteStatement {
        if let statement = statements[sql] { return statement }
        var statement: SQLiteStatement?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
        statements[sql] = statement
        return statement
    }
}

/// The point reads of the live service (see `LedgerDatabase.pointRead`).
public struct PointReader {
    /// A SQLite point-read connection, or a PostgreSQL session outside any transaction.
    let connection: any PointQuerySource

    /// The key with this hash if it exists and is not revoked.
    public func activeAPIKey(hash: String) throws -> APIKeyRecord? {
        try PointQueries.activeAPIKey(hash: hash, on: connection)
    }

    /// The organisation's balance and reservations. Throws `PostingRejection.organisationNotFound`
    /// for an unknown organisation.
    /// The organisation's balance with what its holds open at `instant` promise (`Balance.held`), in one
    /// statement.
    public func balance(of organisationID: String, holdsAt instant: Instant) throws -> Balance {
        try PointQueries.balance(of: organisationID, holdsAt: instant, on: connection)
    }

    public func balance(of organisationID: String) throws -> Balance {
        try PointQueries.balance(of: organisationID, on: connection)
    }

    /// The credit gate's view of a spend (see `GateView`). Throws
    /// `PostingRejection.organisationNotFound` for an unknown organisation.
    public func gateView(
        organisationID: String, idempotencyKey: String?, holdIdempotencyKey: String? = nil, investigationID: String?,
        spendableAt: Instant, now: Instant
    ) throws -> GateView {
        try PointQueries.gateView(
            organisationID: organisationID, idempotencyKey: idempotencyKey, holdIdempotencyKey: holdIdempotencyKey,
            investigationID: investigationID,
            spendableAt: spendableAt, now: now, on: connection)
    }

}
