import Crypto
import GRDB

/// SHA-256 in lower-case hex, for the content hashes staging keys on: a cost event's canonical
/// bytes (duplicate versus `eventIDConflict`) and an input file's bytes (re-ingest is a no-op).
/// Lives in Ledger so the stage modules need no crypto dependency of their own.
public struct StagingDigest {
    private var hasher = SHA256()

    public init() {}

    /// Feeds the next bytes (a file is hashed chunk by chunk, never held whole).
    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    /// The digest of everything fed so far, as 64 hex digits.
    public func hexDigest() -> String {
        ContentHash.hex(hasher.finalize())
    }

    /// The digest of one byte string.
    public static func hex(of bytes: [UInt8]) -> String {
        var digest = StagingDigest()
        digest.update(bytes)
        return digest.hexDigest()
    }
}

extension LedgerReader {
    /// SHA-256 over every staged cost event (all columns but `staged_at`, by `event_id`): equal
    /// digests mean the same staged records, e.g. a killed-and-rerun ingest versus one clean run.
    public func stagedEventsDigest() throws -> String {
        var digest = StagingDigest()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT event_id, content_hash, organisation_id, team, investigation, operation, credits, quantity, unit,
                rate, occurred_at, attributes, source_file, source_line
            FROM cost_events ORDER BY event_id
            """)
        while let row = try rows.next() {
            for value in row.databaseValues {
                let text = value.isNull ? "\u{0}" : String(describing: value)
                digest.update(Array("\(text.utf8.count):\(text)".utf8))
            }
        }
        return digest.hexDigest()
    }
}
