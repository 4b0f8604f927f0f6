/// The ledger as the live service (`credits serve`) uses it, on either store: one SQLite file
/// (`LedgerDatabase`, one process) or PostgreSQL (`PostgresLiveLedger`, any number of replicas on one
/// database). The service is written against this alone, so its routes, gate and GraphQL resolvers are
/// one piece of code whichever store holds the ledger; the rules they call (posting, staging, reads) are
/// the Ledger's, the same on both.
public protocol LiveLedger: Sendable {
    /// The ledger's clock: the `now` its next transaction will carry.
    var now: Instant { get }

    /// Runs `body` in one write transaction (committed if it returns), every transfer it posts made by `actor`.
    /// On PostgreSQL `body` may run more than once (after a deadlock): do everything through the transaction.
    func write<T: Sendable>(as actor: Actor, _ body: @escaping @Sendable (LedgerTransaction) throws -> T) async throws
        -> T

    /// Runs `body` against one consistent snapshot of the ledger.
    func read<T: Sendable>(_ body: @escaping @Sendable (LedgerReader) throws -> T) async throws -> T

    /// Runs `body` with the point reads of every request (an API key, a balance, the credit gate's view):
    /// each one statement, outside any transaction, seeing the latest commit.
    func pointRead<T: Sendable>(_ body: @escaping @Sendable (PointReader) throws -> T) async throws -> T

    /// Group commit: `body` for every unit in one write transaction, each unit in a savepoint of its own (see
    /// `LedgerDatabase.writeEach`). Blocks the calling thread until the commit: call it from a thread of its
    /// own (the group commit's writer queue), never from a task of Swift concurrency's pool.
    func writeEach<Unit, Outcome>(
        _ units: [Unit], actor: (Unit) -> Actor, _ body: (LedgerTransaction, Unit) throws -> Outcome
    ) throws -> [Result<Outcome, any Error>]
}

extension LedgerDatabase: LiveLedger {}
