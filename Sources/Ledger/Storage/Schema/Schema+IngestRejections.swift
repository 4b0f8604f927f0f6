import GRDB

extension Schema {
    /// The records ingest refused, kept with the file they came from.
    ///
    /// Why: the rejects file is written beside the database and renamed into place after the file's
    /// transaction commits. A run killed between the two left the rejections nowhere and the file
    /// recorded as ingested, so the rerun skipped it and exited 0 where the first run would have
    /// exited 3 (issue 15, D5). Stored in the same transaction as the staging, the rejections can be
    /// written again on every later run of the same content.
    ///
    /// `content_sha256` is NULL only inside the transaction that stages the file: the content hash of
    /// a file read while it is parsed is known at its end, when `recordIngestedFile` claims the
    /// pending rows. Rows keep the order they were refused in (`id`).
    static func createIngestRejections(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE ingest_rejections (
                id INTEGER PRIMARY KEY,
                content_sha256 TEXT REFERENCES ingested_files(content_sha256)
                    CHECK (content_sha256 IS NULL OR length(content_sha256) = 64),
                reason TEXT NOT NULL CHECK (length(reason) > 0),
                file TEXT NOT NULL,
                line INTEGER CHECK (line IS NULL OR line > 0),
                column INTEGER CHECK (column IS NULL OR column > 0),
                field TEXT,
                detail TEXT NOT NULL,
                raw BLOB,
                raw_truncated INTEGER NOT NULL CHECK (raw_truncated IN (0, 1))
            ) STRICT;
            CREATE INDEX ingest_rejections_by_file ON ingest_rejections(content_sha256, id);
            """)
    }
}
