import Foundation
import GRDB

/// A consistent read snapshot; in a write transaction, one that first writes the balance changes
/// the transaction deferred.
public struct LedgerReader {
    private let session: any PostingSession
    private let sqlite: Database?
    private let deferred: PostingState?

    init(db: Database) {
        self.session = db
        self.sqlite = db
        self.deferred = nil
    }

    /// A reader of a PostgreSQL transaction that defers nothing (`PostgresStore.reading`).
    init(postgres session: PostgresSession) {
        self.session = session
        self.sqlite = nil
        self.deferred = nil
    }

    init(session: any PostingSession, sqlite: Database?, flushing deferred: PostingState) {
        self.session = session
        self.sqlite = sqlite
        self.deferred = deferred
    }

    /// The store's session, with any balance changes the transaction deferred written first.
    var sql: any PostingSession {
        get throws {
            try deferred?.flush(session)
            return session
        }
    }

    /// The session without writing deferred balance changes first: only for point lookups that read
    /// neither accounts' totals nor grants' `remaining` (configuration, transfers, draws) and that a batch
    /// or the live service's group commit makes for every item, where a flush would write each item's
    /// balance changes on its own. Appended transfers and grants are written first (`PostingState`).
    var sqlReadingNoBalances: any PostingSession {
        get throws {
            try deferred?.writeAppends(session)
            return session
        }
    }

    /// The SQLite connection, with any balance changes the transaction deferred written first: for the
    /// reads that run on a SQLite ledger only so far (see `LedgerTransaction.connection`).
    var db: Database {
        get throws {
            guard let sqlite else { throw SQLiteOnlyStore() }
            try deferred?.flush(session)
            return sqlite
        }
    }

    /// Whether the ledger is a SQLite file (its own prepared statements answer the hot point reads).
    var isSQLite: Bool { sqlite != nil }

    /// `db` without writing deferred balance changes first (see `sqlReadingNoBalances`).
    var dbReadingNoBalances: Database {
        get throws {
            guard let sqlite else { throw SQLiteOnlyStore() }
            try deferred?.writeAppends(session)
            return sqlite
        }
    }
}
