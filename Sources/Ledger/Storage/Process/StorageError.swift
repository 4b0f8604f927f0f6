import Foundation
import GRDB

/// A failure of the database file itself, classified for exit codes.
public struct StorageError: ClassifiedError {
    public enum Reason: Sendable, Equatable {
        case databaseMissing
        case notInitialised
        case newerSchema
        case busy
        case corrupt
        case diskFull
        case io
        case constraint
        /// A stored text no enum of this version knows (a status, kind, severity or code): written
        /// by a newer version, or changed by hand. `detail` names the table, column and value.
        case unknownStoredValue
        case other
    }

    public let reason: Reason
    public let path: String
    public let detail: String

    init(_ reason: Reason, path: String, detail: String = "") {
        self.reason = reason
        self.path = path
        self.detail = detail
    }

    init(classifying error: DatabaseError, path: String) {
        let reason: Reason = switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: .busy
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: .corrupt
        case .SQLITE_FULL: .diskFull
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM: .io
        case .SQLITE_CONSTRAINT: .constraint
        default: .other
        }
        self.init(reason, path: path, detail: error.message ?? "\(error.resultCode)")
    }

    /// `value`, read from `table.column`, is not one this version knows. The path is filled in
    /// when the error leaves `LedgerDatabase` (a reader does not know its file).
    static func unknownStoredValue(_ value: String, table: String, column: String) -> StorageError {
        StorageError(.unknownStoredValue, path: "", detail: "table \(table), column \(column) holds '\(value)'")
    }

    /// This error with its database file named, if it did not name one yet.
    func at(path: String) -> StorageError {
        self.path.isEmpty ? StorageError(reason, path: path, detail: detail) : self
    }

    public var failureClass: FailureClass {
        switch reason {
        case .databaseMissing, .notInitialised: .inputMissing
        case .busy: .locked
        case .corrupt, .diskFull, .io: .io
        case .unknownStoredValue: .badData
        case .newerSchema, .constraint, .other: .internal
        }
    }

    public var description: String {
        switch reason {
        case .databaseMissing: "\(path): no ledger database here; run `credits init --config DIR --db \(path)` first"
        case .notInitialised: "\(path): the database is not initialised or not migrated; run `credits init` first"
        case .newerSchema: "\(path): the database was written by a newer version of credits; refusing to touch it"
        case .busy: "\(path): the database stayed locked by another process for \(Int(LedgerDatabase.busyTimeoutSeconds))s; try again later"
        case .corrupt: "\(path): not a Credits database, or the file is corrupt (\(detail))"
        case .diskFull: "\(path): the disk is full; nothing was written (\(detail))"
        case .io: "\(path): I/O error (\(detail))"
        case .constraint: "\(path): a ledger constraint refused the change (\(detail))"
        case .unknownStoredValue:
            "\(path): \(detail), a value this version of credits does not know; "
                + "it was written by a newer version or changed by hand"
        case .other: "\(path): database error (\(detail))"
        }
    }
}
