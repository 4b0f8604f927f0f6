import Foundation
import GRDB

/// A write transaction. Everything done through one value commits atomically.
public struct LedgerTransaction {
    /// The connection as it is, with balance changes possibly still deferred (see `PostingState`).
    /// Only for statements that neither read nor write accounts or grants (posting's own inserts,
    /// staging); everything else uses `db`.
    let connection: Database
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
        self.connection = db
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

    /// The connection with every deferred balance change written, so any SQL sees the ledger whole.
    var db: Database {
        get throws {
            try postingState.flush(connection)
            return connection
        }
    }

    /// A reader of this transaction that writes the deferred balance changes before each query.
    public var reader: LedgerReader { LedgerReader(db: connection, flushing: postingState) }

    /// Writes the deferred balance changes (before the commit; see `PostingState`).
    func flushDeferredBalances() throws {
        try postingState.flush(connection)
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
        let deferredAtStart = postingState.savepointStarted()
        try connection.inSavepoint {
            result = Result { try body(self) }
            return .rollback
        }
        postingState.savepointRolledBack(to: deferredAtStart)
        return try result!.get()
    }
}
