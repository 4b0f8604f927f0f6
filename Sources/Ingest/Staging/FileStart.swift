import Ledger

/// How every ingester starts a file: fingerprint its bytes and recognise a file ingested before
/// (the same bytes under any name), whose rerun is a no-op.
struct FileStart {
    let name: String
    let fingerprint: (bytes: Int64, sha256: String)
    let summary: IngestFileSummary
    let alreadyIngested: Bool

    init(kind: String, path: String, displayName: String?, limits: IngestLimits, database: LedgerDatabase) throws {
        name = displayName ?? path
        let fingerprint = try FileFingerprint.of(path: path, limits: limits)
        var summary = IngestFileSummary(
            file: name, kind: kind, bytes: fingerprint.bytes, contentSHA256: fingerprint.sha256)
        alreadyIngested = try database.read { try $0.ingestedFile(contentSHA256: fingerprint.sha256) } != nil
        summary.alreadyIngested = alreadyIngested
        self.fingerprint = fingerprint
        self.summary = summary
    }
}
