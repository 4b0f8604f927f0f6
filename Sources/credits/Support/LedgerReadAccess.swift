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
