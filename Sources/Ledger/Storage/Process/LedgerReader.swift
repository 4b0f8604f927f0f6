import Foundation
import GRDB

/// A consistent read snapshot; in a write transaction, one that first writes the balance changes
/// the transaction deferred.
public struct LedgerReader {
    private let connection: Database
    private let deferred: PostingState?

    init(db: Database) {
        self.connection = db
        self.deferred = nil
    }

    init(db: Database, flushing deferred: PostingState) {
        self.connection = db
        self.deferred = deferred
    }

    /// The connection, with any balance changes the transaction deferred written first.
    var db: Database {
        get throws {
            try deferred?.flush(connection)
            return connection
        }
    }

    /// The connection without writing deferred balance changes first: only for point lookups that
    /// read neither accounts' totals nor grants' `remaining` (configuration, transfers, draws) and
    /// that a batch or the live service's group commit makes for every item, where a flush would
    /// write each item's balance changes on its own.
    var dbReadingNoBalances: Database { connection }
}
