import Foundation
import GRDB

/// A record ingest refused, as the ledger keeps it: where it was, which rule it broke and the raw
/// bytes as the rejects file shows them (already cut to the rejects file's limit).
///
/// The Ledger module does not know Ingest's `RejectionRule`, so `reason` is the rule's stable code;
/// Ingest turns it back into the rule when it writes the rejects file again.
public struct RecordedRejection: Sendable, Hashable {
    public var reason: String
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var detail: String
    /// The raw record as the rejects file shows it (at most its raw limit).
    public var raw: [UInt8]?
    /// True when `raw` was cut.
    public var rawTruncated: Bool

    public init(
        reason: String, file: String, line: Int?, column: Int?, field: String?, detail: String, raw: [UInt8]?,
        rawTruncated: Bool
    ) {
        precondition(!reason.isEmpty, "a rejection names its rule")
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.detail = detail
        self.raw = raw
        self.rawTruncated = rawTruncated
    }
}

extension LedgerTransaction {
    /// Keeps a refused record of the file being staged in this transaction. It belongs to no file
    /// until `recordIngestedFile` claims it, in the same transaction; a rollback drops it with the
    /// staged records.
    public func recordRejection(_ rejection: RecordedRejection) throws {
        try db.executeCached(
            sql: """
                INSERT INTO ingest_rejections
                    (content_sha256, reason, file, line, column, field, detail, raw, raw_truncated)
                VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                rejection.reason, rejection.file, rejection.line, rejection.column, rejection.field,
                rejection.detail, rejection.raw.map { Data($0) }, rejection.rawTruncated,
            ])
    }

    /// Gives the rejections recorded in this transaction to the file `contentSHA256`, or drops them
    /// when that file had been recorded before (its own rejections stand, exactly once).
    func claimPendingRejections(contentSHA256: String, fileIsNew: Bool) throws {
        if fileIsNew {
            try db.executeCached(
                sql: "UPDATE ingest_rejections SET content_sha256 = ? WHERE content_sha256 IS NULL",
                arguments: [contentSHA256])
        } else {
            try db.executeCached(sql: "DELETE FROM ingest_rejections WHERE content_sha256 IS NULL")
        }
    }
}

extension LedgerReader {
    /// Calls `body` with each rejection recorded when the file `contentSHA256` was ingested, in the
    /// order they were refused. Streams: a file of a million refused records is never held whole.
    public func forEachRejection(
        ofIngestedFile contentSHA256: String, _ body: (RecordedRejection) throws -> Void
    ) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT reason, file, line, column, field, detail, raw, raw_truncated FROM ingest_rejections
                WHERE content_sha256 = ? ORDER BY id
                """,
            arguments: [contentSHA256])
        while let row = try rows.next() {
            let raw: Data? = row["raw"]
            try body(RecordedRejection(
                reason: row["reason"], file: row["file"], line: row["line"], column: row["column"],
                field: row["field"], detail: row["detail"], raw: raw.map { [UInt8]($0) },
                rawTruncated: row["raw_truncated"]))
        }
    }
}
