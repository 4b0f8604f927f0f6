import Foundation
import GRDB

/// The ledger database: one SQLite file, opened once per process.
///
/// Batch stages open it with `.batch` durability (WAL, `synchronous=NORMAL`: a commit survives an
/// application crash, and every stage is idempotent so a rerun repairs a power loss). The live
/// service opens it with `.live` (`synchronous=FULL`): a 204 sent for a webhook credit must
/// survive a power cut, because Revolut will not retry it.
public final class LedgerDatabase: Sendable {
    public enum Durability: Sendable {
        case batch
        case live
    }

    let writer: any DatabaseWriter
    public let path: String
    let clock: @Sendable () -> Instant
    private let pointReads: PointReadConnections

    /// How long a writer waits for another process's transaction before giving up (exit 75).
    public static let busyTimeoutSeconds: Double = 10

    private init(writer: any DatabaseWriter, path: String, clock: @escaping @Sendable () -> Instant) {
        self.writer = writer
        self.path = path
        self.clock = clock
        self.pointReads = PointReadConnections(path: path)
    }

    /// Creates the database if needed and applies every pending migration (`credits init`).
    public static func create(
        at path: String, durability: Durability = .batch,
        clock: @escaping @Sendable () -> Instant = { Instant(Date()) }
    ) throws -> LedgerDatabase {
        let database = try connect(path: path, durability: durability, clock: clock)
        try database.mapErrors {
            try database.writer.read { db in try refuseNewerSchema(db, path: path) }
            try Schema.migrator.migrate(database.writer)
        }
        return database
    }

    /// Opens an initialised database; refuses a missing file, an uninitialised or a newer schema.
    public static func open(
        at path: String, durability: Durability = .batch,
        clock: @escaping @Sendable () -> Instant = { Instant(Date()) }
    ) throws -> LedgerDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StorageError(.databaseMissing, path: path)
        }
        let database = try connect(path: path, durability: durability, clock: clock)
        try database.mapErrors {
            try database.writer.read { db in
                try refuseNewerSchema(db, path: path)
                guard try Schema.migrator.hasCompletedMigrations(db) else {
                    throw StorageError(.notInitialised, path: path)
                }
            }
        }
        return database
    }

    /// The page cache of a batch stage. 32 MiB, not 64: measured on a 1M-event night, the larger
    /// cache made reconcile ~5% and apply up to 10% faster but cost 35 MB of peak memory, which put
    /// both past the 150 MB every stage must stay under (benchmarks/README.md).
    static let batchCacheKibibytes = 32_768

    private static func connect(
        path: String, durability: Durability, clock: @escaping @Sendable () -> Instant
    ) throws -> LedgerDatabase {
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.foreignKeysEnabled = true
        configuration.journalMode = .wal
        let synchronous = durability == .live ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // A batch stage inserts up to millions of rows into indexes whose pages are touched
            // in random order; with SQLite's default 2 MB page cache most of them are read back
            // from the operating system again and again.
            if durability == .batch { try db.execute(sql: "PRAGMA cache_size = -\(Self.batchCacheKibibytes)") }
            // Statement journals in memory. A statement that may fail halfway (triggers, foreign keys,
            // several rows) journals the pages it changes so it alone can be undone; past 64 KiB that
            // journal spills to a temporary file, and then every later statement of the transaction
            // writes its few pages there with two system calls each: 2.6 million calls in a 1M-event
            // reconcile --apply. Each statement's journal is a few pages. (Temporary tables and sorts
            // stay in memory too: every stage's peak at 1M events moved by 4 MB at most, benchmarks/.)
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            let writer: any DatabaseWriter = switch durability {
            case .batch: try DatabaseQueue(path: path, configuration: configuration)
            case .live: try DatabasePool(path: path, configuration: configuration)
            }
            return LedgerDatabase(writer: writer, path: path, clock: clock)
        } catch let error as DatabaseError {
            throw StorageError(classifying: error, path: path)
        }
    }

    private static func refuseNewerSchema(_ db: Database, path: String) throws {
        if try Schema.migrator.hasBeenSuperseded(db) { throw StorageError(.newerSchema, path: path) }
    }

    /// The ledger's clock: the `now` its next transaction will carry (the live gate reads holds' expiry by it).
    public var now: Instant { clock() }

    /// Runs `body` in one write transaction: everything in it commits together or not at all. Every
    /// transfer it posts records `actor` as who made it.
    public func write<T>(as actor: Actor, _ body: (LedgerTransaction) throws -> T) throws -> T {
        let now = clock()
        return try mapErrors {
            try writer.write { db in try LedgerTransaction(db: db, now: now, actor: actor).run(body) }
        }
    }

    /// Runs `body` against a consistent snapshot of the database.
    public func read<T>(_ body: (LedgerReader) throws -> T) throws -> T {
        try mapErrors { try writer.read { db in try body(LedgerReader(db: db)) } }
    }

    /// Async variants for the live service, so request handlers never block a cooperative thread.
    public func write<T: Sendable>(
        as actor: Actor, _ body: @escaping @Sendable (LedgerTransaction) throws -> T
    ) async throws -> T {
        let now = clock()
        do {
            return try await writer.write { db in try LedgerTransaction(db: db, now: now, actor: actor).run(body) }
        } catch let error as DatabaseError {
            throw StorageError(classifying: error, path: path)
        } catch let error as StorageError {
            throw error.at(path: path)
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (LedgerReader) throws -> T) async throws -> T {
        do {
            return try await writer.read { db in try body(LedgerReader(db: db)) }
        } catch let error as DatabaseError {
            throw StorageError(classifying: error, path: path)
        } catch let error as StorageError {
            throw error.at(path: path)
        }
    }

    /// Runs `body` against a consistent snapshot on the calling thread, blocking it meanwhile.
    ///
    /// For the live service's point reads (an API key, a balance), which take microseconds: the async
    /// `read` hops to a reader queue and back, and on two cores those two thread switches cost more than
    /// the read. In WAL mode a reader never waits for a writer, so what blocks is the read's own work.
    /// Not for scans whose cost grows with the ledger; use the async `read` for those.
    public func readBlocking<T>(_ body: (LedgerReader) throws -> T) throws -> T {
        try read(body)
    }

    /// Runs `body` with the live service's point reads (`PointReader`): an API key, a balance, the
    /// credit gate's view. Each is one statement, run on the calling thread outside any transaction,
    /// on a connection of its own (see `PointReadConnections` for why); each sees the latest commit.
    /// The spend's own write transaction decides again whatever the gate read.
    public func pointRead<T>(_ body: (PointReader) throws -> T) throws -> T {
        try mapErrors { try pointReads.withConnection { try body(PointReader(connection: $0)) } }
    }

    /// `pointRead` for the live service (`LiveLedger`): in place, on the calling thread, since a point read
    /// takes microseconds and a hop to another thread and back would cost more.
    public func pointRead<T: Sendable>(_ body: @escaping @Sendable (PointReader) throws -> T) async throws -> T {
        try mapErrors { try pointReads.withConnection { try body(PointReader(connection: $0)) } }
    }

    /// Group commit: runs `body` for every unit in one write transaction, each unit in its own savepoint,
    /// and commits once, so many small independent changes share one commit and one fsync.
    ///
    /// Each unit sees the changes of the units before it (they run in order). A unit that throws is
    /// rolled back alone and its error is its result; the others still commit. A constraint the schema
    /// enforces is such a unit error. Any other database failure (busy, I/O, disk full, a failed
    /// commit) is thrown: then nothing of any unit was written, and no unit may be reported as done.
    /// Each unit's transfers record that unit's own actor (`actor(unit)`): one commit carries many callers.
    public func writeEach<Unit, Outcome>(
        _ units: [Unit], actor: (Unit) -> Actor, _ body: (LedgerTransaction, Unit) throws -> Outcome
    ) throws -> [Result<Outcome, any Error>] {
        let now = clock()
        let path = path
        return try mapErrors {
            try writer.write { db in
                guard let first = units.first else { return [] }
                let transaction = LedgerTransaction(db: db, now: now, actor: actor(first))
                let outcomes = try units.map { unit in
                    let acting = transaction.acting(as: actor(unit))
                    return try Self.inOwnSavepoint(acting, path: path) { try body(acting, unit) }
                }
                precondition(outcomes.count == units.count, "one outcome per unit")
                try transaction.flushDeferredBalances()
                return outcomes
            }
        }
    }

    private static func inOwnSavepoint<Outcome>(
        _ transaction: LedgerTransaction, path: String, _ body: () throws -> Outcome
    ) throws -> Result<Outcome, any Error> {
        var outcome: Result<Outcome, any Error>?
        let deferredAtStart = try transaction.postingState.savepointStarted(transaction.session)
        try transaction.connection.inSavepoint {
            do {
                outcome = .success(try body())
                return .commit
            } catch let error as DatabaseError where error.resultCode != .SQLITE_CONSTRAINT {
                throw error
            } catch let error as DatabaseError {
                outcome = .failure(StorageError(classifying: error, path: path))
                return .rollback
            } catch {
                outcome = .failure(error)
                return .rollback
            }
        }
        guard let outcome else { preconditionFailure("a savepoint ran its unit") }
        // What the rolled-back unit did to the posting state and the deferred balances went with its savepoint.
        if case .failure = outcome { transaction.postingState.savepointRolledBack(to: deferredAtStart) }
        return outcome
    }

    /// Truncates the write-ahead log after a bulk load so it does not stay the size of the load.
    public func checkpoint() throws {
        try mapErrors { try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") } }
    }

    /// SQLite's own structural check of the file (`credits init`; `verify` runs it as part of its work).
    public func quickCheck() throws -> [String] {
        try read { try $0.quickCheck() }
    }

    func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw StorageError(classifying: error, path: path)
        } catch let error as StorageError {
            throw error.at(path: path)
        }
    }
}
