import Foundation

/// A ledger on PostgreSQL for the stages that run there through portable SQL (`SQLSession`): `credits
/// init` (the schema, then the configuration, by the same `ConfigurationLoad` as on SQLite), the read
/// commands and `report` (`LedgerReads`, by the same queries as on SQLite), and `credits invoice`
/// (`LedgerInvoicing`: the same `InvoiceBook`, gap-free numbers kept by the schema's triggers), and
/// `credits alerts` (`AlertingStore`: the same `AlertQueries`), `credits keys create` (`APIKeyIssuing`),
/// `credits ledger void-event` (`CostEventVoiding`) and `credits ledger move-expiry` (`GrantExpiryMoving`).
///
/// One connection. Writes run in one transaction each, serialised between processes by the stage's
/// advisory lock (`takeStageLock`); reads run in one `REPEATABLE READ READ ONLY` transaction, so every
/// query of a command sees the same ledger.
///
/// Synchronous: each call waits for its PostgreSQL work, so use it from a thread of its own (the CLI's
/// main thread, a `Thread`), never from a task of Swift concurrency's pool.
public final class PostgresStore: Sendable {
    let ledger: PostgresLedger
    let clock: @Sendable () -> Instant

    private init(ledger: PostgresLedger, clock: @escaping @Sendable () -> Instant) {
        self.ledger = ledger
        self.clock = clock
    }

    /// Connects and applies every pending migration, creating the schema in an empty database. `created`
    /// says whether the database held no ledger before.
    public static func create(at location: PostgresLocation, clock: @escaping @Sendable () -> Instant) throws
        -> (store: PostgresStore, created: Bool)
    {
        let ledger = try PostgresBlocking.wait { try await PostgresLedger.connect(location) }
        let store = PostgresStore(ledger: ledger, clock: clock)
        do {
            let created = try ledger.blocking { ledger in
                let before = try await ledger.appliedMigrations()
                try await ledger.migrate()
                return before.isEmpty
            }
            return (store, created)
        } catch {
            store.close()
            throw error
        }
    }

    /// Connects to a database that holds a ledger (`PostgresLedger.open`).
    public static func open(at location: PostgresLocation, clock: @escaping @Sendable () -> Instant) throws
        -> PostgresStore
    {
        do {
            return PostgresStore(ledger: try PostgresBlocking.wait { try await PostgresLedger.open(at: location) }, clock: clock)
        } catch {
            throw PostgresStoreError(error, at: location)
        }
    }

    /// Connects (`open`), takes `stage`'s advisory lock when one is named, runs `body` with the store and closes
    /// the connection however `body` ends: one command's use of a PostgreSQL ledger. The lock ends with the
    /// connection.
    public static func using<T>(
        _ location: PostgresLocation, clock: @escaping @Sendable () -> Instant, stageLock stage: String? = nil,
        wait: Bool = false, _ body: (PostgresStore) throws -> T
    ) throws -> T {
        let store = try open(at: location, clock: clock)
        defer { store.close() }
        if let stage { try store.takeStageLock(stage, wait: wait) }
        return try body(store)
    }

    public func close() {
        try? PostgresBlocking.wait { [ledger] in await ledger.close() }
    }

    /// Whether the connection is gone (closed, or lost: the server restarted or ended it).
    public var isClosed: Bool { ledger.connection.isClosed }

    /// Takes the advisory lock of `stage` for this connection's session, or throws `StageLock.Held` naming
    /// the backend that holds it (or waits, if asked). The server frees it when the connection ends, however
    /// the process ended: a lock left by a killed run is simply free.
    public func takeStageLock(_ stage: String, wait: Bool) throws {
        try ledger.blocking { try await $0.takeStageLock(stage, wait: wait) }
    }

    /// What ingest stages through on this connection (`StagingStore`).
    public var staging: PostgresStagingStore {
        PostgresStagingStore(ledger: ledger, clock: clock)
    }

    /// Writes the configuration in one transaction (`ConfigurationLoad`, as on SQLite).
    public func load(_ configuration: Configuration) throws -> ConfigurationChange {
        let now = clock()
        return try transaction("BEGIN") { try ConfigurationLoad.load(configuration, now: now, on: $0) }
    }

    /// The ledger digest (`ledger verify`'s), the same a SQLite ledger with the same content has.
    public func digest() throws -> String {
        try ledger.blocking { try await $0.digest() }
    }

    /// Runs `body` as one write transaction of posting (`LedgerTransaction`: the same rules and SQL as on
    /// SQLite): committed if it returns, rolled back if it throws. Every transfer it posts records `actor`.
    ///
    /// Concurrency, the PostgreSQL way: the transaction runs at READ COMMITTED and locks each organisation
    /// it posts for before it reads what it decides on (`PostingSession.lockOrganisation`), so a replica
    /// posting for the same organisation waits for this one to commit and then decides on its result: no
    /// lost update of a balance or a grant, no double charge. A deadlock between two such transactions
    /// (or a serialization failure) rolls this one back, and `body` runs again from the start, at most
    /// `writeAttempts` times in all; so `body` must do everything through the transaction it is handed.
    public func write<T>(as actor: Actor, _ body: (LedgerTransaction) throws -> T) throws -> T {
        var attempt = 1
        while true {
            let now = clock()
            let session = PostgresSession(ledger: ledger)
            do {
                return try transaction("BEGIN ISOLATION LEVEL READ COMMITTED", session: session) { session in
                    try LedgerTransaction(postgres: session, now: now, actor: actor).run(body)
                }
            } catch where session.sawTransientFailure && attempt < Self.writeAttempts {
                // A random pause, longer each time, so two transactions that deadlocked do not meet again in
                // the same order at once.
                usleep(UInt32.random(in: 1_000...5_000) * UInt32(attempt))
                attempt += 1
            }
        }
    }

    /// How often `write` runs a transaction that a deadlock or serialization failure rolled back.
    static let writeAttempts = 5

    /// Group commit (`LedgerDatabase.writeEach`'s contract, the live service's): runs `body` for every unit
    /// in one write transaction (`write`), each unit in a savepoint of its own, and commits once. A unit that
    /// throws is rolled back alone and its error is its result, a constraint the schema enforces included;
    /// any other failure of the database is thrown, and then nothing of any unit was written. A deadlock or
    /// serialization failure runs the whole group again (`write`).
    public func writeEach<Unit, Outcome>(
        _ units: [Unit], actor: (Unit) -> Actor, _ body: (LedgerTransaction, Unit) throws -> Outcome
    ) throws -> [Result<Outcome, any Error>] {
        guard let first = units.first else { return [] }
        return try write(as: actor(first)) { transaction in
            try units.map { unit in
                let acting = transaction.acting(as: actor(unit))
                return try acting.inOwnPostgresSavepoint { try body(acting, unit) }
            }
        }
    }

    /// Runs `body` on one consistent, read-only view of the ledger, as the live service reads it
    /// (`LedgerReader`: the same reads as on SQLite).
    public func reading<T>(_ body: (LedgerReader) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { try body(LedgerReader(postgres: $0)) }
    }

    /// Runs `body` with the live service's point reads (`PointReader`), each one statement outside any
    /// transaction, so each sees the latest commit (as `LedgerDatabase.pointRead`).
    public func pointRead<T>(_ body: (PointReader) throws -> T) throws -> T {
        try body(PointReader(connection: PostgresSession(ledger: ledger)))
    }

    /// Runs `body` in one write transaction for issuing invoices (`LedgerInvoicing`): committed if it
    /// returns, rolled back if it throws. Serialise runs with the `invoice` stage lock first.
    public func invoicing<T>(_ body: (any LedgerInvoicing) throws -> T) throws -> T {
        let now = clock()
        return try transaction("BEGIN") { try body(PostgresInvoicing(sql: $0, now: now)) }
    }

    /// Runs `body` on one consistent, read-only view of the ledger.
    public func read<T>(_ body: (any LedgerReads) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { try body(PostgresReader(sql: $0)) }
    }

    /// Runs `body` in one transaction that `begin` opens: committed if it returns (rolled back instead when
    /// `commit` is false), rolled back if it throws.
    func transaction<T>(
        _ begin: String, commit: Bool = true, session: PostgresSession? = nil, _ body: (PostgresSession) throws -> T
    ) throws -> T {
        let session = session ?? PostgresSession(ledger: ledger)
        try session.execute(begin)
        let value: T
        do {
            value = try body(session)
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
        try session.execute(commit ? "COMMIT" : "ROLLBACK")
        return value
    }
}
