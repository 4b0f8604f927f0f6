import Ledger

/// How a read command reaches the ledger `--db` names, on either store.
enum LedgerReadAccess {
    /// Runs `body` on one consistent read of the ledger: a SQLite read transaction, or a PostgreSQL
    /// `REPEATABLE READ` one.
    static func read<T>(
        _ options: GlobalOptions, clock: @escaping @Sendable () -> Instant, _ body: (any LedgerReads) throws -> T
    ) throws -> T {
        switch options.store {
        case .sqlite(let path):
            return try LedgerDatabase.open(at: path, clock: clock).read { try body($0) }
        case .postgres(let location):
            return try PostgresStore.using(location, clock: clock) { try $0.read(body) }
        }
    }
}

/// How a command that posts reaches the ledger `--db` names, on either store.
enum LedgerWriteAccess {
    /// Runs `body` as one write transaction posting for `actor` (`LedgerTransaction`, the same rules on
    /// both stores): SQLite's exclusive write transaction, or `PostgresStore.write` (row locks per
    /// organisation, run again after a deadlock).
    static func write<T>(
        _ options: GlobalOptions, as actor: Actor, _ body: (LedgerTransaction) throws -> T
    ) throws -> T {
        let clock = try options.clock()
        switch options.store {
        case .sqlite(let path):
            return try LedgerDatabase.open(at: path, clock: clock).write(as: actor, body)
        case .postgres(let location):
            return try PostgresStore.using(location, clock: clock) { try $0.write(as: actor, body) }
        }
    }
}

extension LedgerWriteAccess {
    /// Runs `body` as a stage that posts (`reconcile`, `apply`) on the ledger `--db` names, holding the stage
    /// locks `others` too (reconcile --apply holds apply's as well): on SQLite the lock files beside the
    /// ledger (`Runner.run` took the stage's own), on PostgreSQL the stage's own and `others` as advisory
    /// locks of the connection `body` posts on, which the server frees however the process ends.
    static func stage<T>(
        _ options: GlobalOptions, _ stage: String, alsoLocking others: [String] = [],
        _ body: (any LedgerWriting & AlertingStore) throws -> T
    ) throws -> T {
        let clock = try options.clock()
        switch options.store {
        case .sqlite(let path):
            let held = try others.map { try StageLock(stage: $0, databasePath: path, wait: options.wait, now: clock()) }
            defer { withExtendedLifetime(held) {} }
            return try body(LedgerDatabase.open(at: path, clock: clock))
        case .postgres(let location):
            return try PostgresStore.using(location, clock: clock, stageLock: stage, wait: options.wait) { store in
                for other in others { try store.takeStageLock(other, wait: options.wait) }
                return try body(store)
            }
        }
    }

    /// Takes the stage lock of `stage` for the rest of the run, without waiting: a lock file beside a SQLite
    /// ledger, or an advisory lock of the PostgreSQL connection `ledger` holds. Throws `StageLock.Held` when
    /// another run holds it.
    static func lock(_ stage: String, of ledger: any LedgerWriting & AlertingStore, _ options: GlobalOptions) throws
        -> StageLock?
    {
        if let store = ledger as? PostgresStore {
            try store.takeStageLock(stage, wait: false)
            return nil
        }
        return try StageLock(stage: stage, databasePath: options.db, wait: false, now: try options.clock()())
    }
}
