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
