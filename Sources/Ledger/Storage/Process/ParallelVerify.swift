import Dispatch
import GRDB
import GRDBSQLite

/// `ledger verify` on SQLite: the file's structural check (`PRAGMA quick_check`), every invariant, and
/// the digest. They are independent reads of the whole file, so they run on two connections at once,
/// one per core: on a 1M-event ledger each half takes about as long as the other (benchmarks/README.md).
///
/// Both connections read one snapshot, so the checks and the digest describe the same ledger even
/// while the live service or a stage writes. SQLite (without its optional snapshot API, which
/// Debian's build leaves out) gives that this way: a third connection takes the write lock
/// (`BEGIN IMMEDIATE`, so no commit can happen), each reader starts its read transaction, and the
/// lock is released at once; a reader's transaction then keeps the snapshot it started on. When the
/// lock cannot be had within a moment (a long write is in progress) or at all (a read-only file),
/// everything runs on one connection in one read transaction instead, as before.
extension LedgerDatabase {
    public struct Verification: Sendable {
        /// `PRAGMA quick_check`'s answer: `["ok"]` for a sound file.
        public let integrity: [String]
        /// Nil when the file is not sound: the invariants of a damaged file mean nothing.
        public let report: VerificationReport?
    }

    public func verify() throws -> Verification {
        try verify(afterPinningSnapshot: {})
    }

    /// `afterPinning` runs once both readers hold their snapshot and the write lock is released (a
    /// test commits there, and expects a report of the ledger before it).
    func verify(afterPinningSnapshot afterPinning: () throws -> Void) throws -> Verification {
        let readers = try mapErrors { try (0..<2).map { _ in try Self.verifyConnection(path: path) } }
        guard pinOneSnapshot(readers) else {
            return try read { reader in
                let integrity = try reader.quickCheck()
                return Verification(integrity: integrity, report: integrity == ["ok"] ? try reader.verify() : nil)
            }
        }
        try afterPinning()
        let halves = Halves()
        // Two halves of about equal length (measured at 1M events): the structural check, the digest and
        // the counts; the invariants.
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            let reader = readers[half]
            if half == 0 {
                halves.integrity = Result { try reader.inDatabase { try LedgerReader(db: $0).quickCheck() } }
                halves.summary = Result { try reader.inDatabase { try LedgerReader(db: $0).digestAndCounts() } }
            } else {
                halves.checks = Result { try reader.inDatabase { try LedgerReader(db: $0).verificationChecks() } }
            }
            try? reader.inDatabase { try $0.execute(sql: "COMMIT") }
        }
        guard let integrity = halves.integrity, let checks = halves.checks, let summary = halves.summary else {
            preconditionFailure("concurrentPerform ran both halves")
        }
        return try mapErrors {
            let found = try integrity.get()
            guard found == ["ok"] else { return Verification(integrity: found, report: nil) }
            return Verification(integrity: found, report: VerificationReport(checks: try checks.get(),
                                                                                      summary: try summary.get()))
        }
    }

    /// Starts a read transaction on each of `readers` while no commit can happen, so all see the same
    /// snapshot; false (and none left open) when the write lock was not to be had.
    private func pinOneSnapshot(_ readers: [DatabaseQueue]) -> Bool {
        do {
            try writer.writeWithoutTransaction { db in
                let connection = db.sqliteConnection
                sqlite3_busy_timeout(connection, 250)
                defer { sqlite3_busy_timeout(connection, Int32(Self.busyTimeoutSeconds * 1_000)) }
                try db.execute(sql: "BEGIN IMMEDIATE")
                defer { try? db.execute(sql: "ROLLBACK") }
                for reader in readers {
                    try reader.inDatabase { db in
                        try db.execute(sql: "BEGIN DEFERRED")
                        _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_schema")
                    }
                }
            }
            return true
        } catch {
            for reader in readers {
                try? reader.inDatabase { db in if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") } }
            }
            return false
        }
    }

    /// A read-only connection for one half of `verify`, with a smaller page cache than a stage's: it
    /// scans, and two of them run at once.
    private static func verifyConnection(path: String) throws -> DatabaseQueue {
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        // The read transaction that pins the snapshot spans several accesses (`pinOneSnapshot`, then the work).
        configuration.allowsUnsafeTransactions = true
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -8192") }
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}

/// What each half of `verify` found. Half 0 writes `integrity` and `summary`, half 1 `checks`, read
/// only after `concurrentPerform` has returned, so no field is ever touched by two threads at once.
private final class Halves: @unchecked Sendable {
    var integrity: Result<[String], any Error>?
    var checks: Result<[VerificationReport.Check], any Error>?
    var summary: Result<VerificationReport.Summary, any Error>?
}

extension LedgerReader {
    /// SQLite's structural check of the file.
    func quickCheck() throws -> [String] {
        try String.fetchAll(db, sql: "PRAGMA quick_check")
    }
}
