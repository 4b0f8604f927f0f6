import Foundation
import GRDB

/// A write transaction. Everything done through one value commits atomically.
public struct LedgerTransaction {
    /// The store's connection as it is, with balance changes possibly still deferred (see
    /// `PostingState`): posting's SQL, written once for SQLite and PostgreSQL. Only for statements that
    /// neither read nor write accounts or grants (posting's own inserts) or that posting keeps current
    /// itself; everything else reads through `reader` or `db`, which flush first.
    let session: any PostingSession
    /// The SQLite connection, when the ledger is a SQLite file; nil on PostgreSQL.
    private let sqliteConnection: Database?
    /// The wall-clock time of this transaction, from the database's injected clock.
    public let now: Instant
    /// Spending facts read once per transaction and kept current by postings, and the balance
    /// changes they have not written yet (see `PostingState`).
    let postingState = PostingState()
    /// Who this transaction acts for: recorded on every transfer it posts (`Actor`).
    public private(set) var actor: Actor
    /// The actor as stored, when it may post (`Actor.mayPost`); nil when it may not. Built once, not
    /// per transfer: apply posts hundreds of thousands.
    private(set) var actorText: String?

    init(db: Database, now: Instant, actor: Actor) {
        self.session = db
        self.sqliteConnection = db
        self.now = now
        self.actor = actor
        self.actorText = actor.mayPost ? actor.storedText : nil
    }

    init(postgres session: PostgresSession, now: Instant, actor: Actor) {
        self.session = session
        self.sqliteConnection = nil
        self.now = now
        self.actor = actor
        self.actorText = actor.mayPost ? actor.storedText : nil
    }

    /// The same transaction (same connection, same deferred changes) acting for someone else: the
    /// group commit's units, each a different caller.
    public func acting(as actor: Actor) -> LedgerTransaction {
        var copy = self
        copy.actor = actor
        copy.actorText = actor.mayPost ? actor.storedText : nil
        return copy
    }

    /// The SQLite connection as it is (see `session`), for what runs on SQLite only: batch staging's bound
    /// statements (PostgreSQL stages through `PostgresStagingStore` and `PostgresEventStaging`), so reaching
    /// it from a PostgreSQL transaction is a bug, reported as one (`SQLiteOnlyStore`).
    var connection: Database {
        get throws {
            guard let sqliteConnection else { throw SQLiteOnlyStore() }
            return sqliteConnection
        }
    }

    /// The SQLite connection with every deferred balance change written, so any SQL sees the ledger
    /// whole (see `connection`).
    var db: Database {
        get throws {
            let connection = try connection
            try postingState.flush(session)
            return connection
        }
    }

    /// The session with every deferred balance change written, so any SQL sees the ledger whole.
    var sql: any PostingSession {
        get throws {
            try postingState.flush(session)
            return session
        }
    }

    /// Makes this transaction the only one that may change the organisation (its balance, grants, holds,
    /// staged events and configuration) until it ends: `PostingSession.lockOrganisation`, once per
    /// transaction. The one locking rule of the ledger: whatever stages, reads to decide or writes anything
    /// for an organisation calls this first, before its first read, so concurrent writers on PostgreSQL
    /// take turns per organisation and always take the same lock first (no deadlock between them).
    func lockOrganisation(_ organisationID: String) throws {
        try postingState.lock(organisationID, in: session)
    }

    /// Makes this transaction the only one adding transfers, grants and draws from here until it ends
    /// (`PostingSession.lockRowNumbering`, which numbering its rows takes anyway at its first posting).
    /// Taken before reading, it keeps what the transaction reads of the ledger's postings true while it
    /// posts: a night's walk asks about each order's top-up once, with the order, not again before
    /// crediting it.
    func lockPostings() throws {
        _ = try postingState.nextID(of: .transfers, in: session)
    }

    /// A reader of this transaction that writes the deferred balance changes before each query.
    public var reader: LedgerReader { LedgerReader(session: session, sqlite: sqliteConnection, flushing: postingState) }

    /// Writes the deferred balance changes (before the commit; see `PostingState`).
    func flushDeferredBalances() throws {
        try postingState.flush(session)
    }

    /// Runs `body` as the whole transaction, then writes what it deferred, so the commit holds it.
    func run<T>(_ body: (LedgerTransaction) throws -> T) throws -> T {
        let result = try body(self)
        try flushDeferredBalances()
        return result
    }

    /// Runs `body` against the ledger as it would be after it, then undoes everything it wrote.
    /// Reconcile uses this to find out exactly what posting its plan will do.
    public func dryRun<T>(_ body: (LedgerTransaction) throws -> T) throws -> T {
        var result: Result<T, any Error>?
        let deferredAtStart = try postingState.savepointStarted(session)
        if let sqliteConnection {
            try sqliteConnection.inSavepoint {
                result = Result { try body(self) }
                return .rollback
            }
        } else {
            try session.execute("SAVEPOINT credits_dry_run")
            result = Result { try body(self) }
            try session.execute("ROLLBACK TO SAVEPOINT credits_dry_run")
            try session.execute("RELEASE SAVEPOINT credits_dry_run")
        }
        postingState.savepointRolledBack(to: deferredAtStart)
        return try result!.get()
    }
}

extension LedgerTransaction {
    /// One unit of a group commit on PostgreSQL (`PostgresStore.writeEach`), in a savepoint of its own:
    /// its value, or its error with everything it wrote undone (and what it did to the posting state). A
    /// failure of the database other than a constraint the schema enforces (SQLSTATE class 23) is thrown:
    /// the transaction is lost (a deadlock or a lost connection), not the unit.
    func inOwnPostgresSavepoint<Outcome>(_ body: () throws -> Outcome) throws -> Result<Outcome, any Error> {
        let deferredAtStart = try postingState.savepointStarted(session)
        try session.execute("SAVEPOINT credits_unit")
        let outcome: Result<Outcome, any Error>
        do {
            outcome = .success(try body())
        } catch let error as PostgresStoreError where !(error.sqlState?.hasPrefix("23") ?? false) {
            throw error
        } catch {
            outcome = .failure(error)
        }
        if case .failure = outcome {
            try session.execute("ROLLBACK TO SAVEPOINT credits_unit")
            postingState.savepointRolledBack(to: deferredAtStart)
        }
        try session.execute("RELEASE SAVEPOINT credits_unit")
        return outcome
    }
}

/// A store of a SQLite ledger (batch staging, whose PostgreSQL twin is `PostgresStagingStore`) reached from a
/// transaction on PostgreSQL: a bug, not bad input.
struct SQLiteOnlyStore: ClassifiedError {
    var failureClass: FailureClass { .internal }
    var description: String { "this step runs on a SQLite ledger only so far, and the ledger is on PostgreSQL" }
}

/// Where a stage posts: a SQLite ledger (`LedgerDatabase`) or a PostgreSQL one (`PostgresStore`), each
/// running `body` as one write transaction of posting (`LedgerTransaction`, the same code on both), every
/// transfer it posts made by `actor`. Reconcile and apply are written against this, so they are one piece of
/// code on either store.
public protocol LedgerWriting {
    func write<T>(as actor: Actor, _ body: (LedgerTransaction) throws -> T) throws -> T
}

extension LedgerDatabase: LedgerWriting {}
extension PostgresStore: LedgerWriting {}
