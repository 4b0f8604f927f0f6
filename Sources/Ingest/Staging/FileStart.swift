import Ledger

/// Size and SHA-256 of a file's bytes on disk: the same bytes again (under any name) are a file
/// ingested before, whose rerun is a no-op.
struct FileFingerprint: Sendable, Equatable {
    let bytes: Int64
    let sha256: String

    /// Reads the whole file in chunks, never holding it whole.
    static func of(path: String, limits: IngestLimits) throws(InputError) -> FileFingerprint {
        let source = try FileChunkSource(path: path, chunkBytes: limits.readChunkBytes, fingerprinting: true)
        return try source.fingerprint()
    }
}

/// How every ingester starts a file: recognise a file ingested before (the same bytes under any
/// name), whose rerun is a no-op.
///
/// Hashing a file up front means reading it twice. Content can only repeat at the same size, so
/// with `.whileReadingWhenNewSize` a file whose size was never ingested is not hashed here: the
/// caller hashes it while parsing (`CostEventReader(fingerprinting:)`) and checks the hash again
/// before it commits (the file may have changed in between). A file of a size seen before is
/// hashed up front as always, so a rerun of the same file stays a cheap no-op.
struct FileStart {
    enum Hashing {
        /// Always hash before reading (order exports, read whole anyway).
        case upFront
        /// Hash before reading only when a file of this size was ingested before.
        case whileReadingWhenNewSize
    }

    let name: String
    /// Known here when hashed up front; nil when the caller must hash while reading.
    let fingerprint: FileFingerprint?
    let summary: IngestFileSummary
    let alreadyIngested: Bool

    init(
        kind: String, path: String, displayName: String?, limits: IngestLimits, database: LedgerDatabase,
        hashing: Hashing = .upFront
    ) throws {
        name = displayName ?? path
        if hashing == .whileReadingWhenNewSize {
            let size = try FileChunkSource(path: path, chunkBytes: limits.readChunkBytes).bytesAtOpen
            if try !database.read({ try $0.hasIngestedFile(bytes: size) }) {
                fingerprint = nil
                summary = IngestFileSummary(file: name, kind: kind, bytes: size, contentSHA256: "")
                alreadyIngested = false
                return
            }
        }
        let fingerprint = try FileFingerprint.of(path: path, limits: limits)
        var summary = IngestFileSummary(
            file: name, kind: kind, bytes: fingerprint.bytes, contentSHA256: fingerprint.sha256)
        alreadyIngested = try database.read { try $0.ingestedFile(contentSHA256: fingerprint.sha256) } != nil
        summary.alreadyIngested = alreadyIngested
        self.fingerprint = fingerprint
        self.summary = summary
    }
}

extension IngestFileSummary {
    /// Sets the size and hash once they are known (after the read, when hashed while reading).
    mutating func record(_ fingerprint: FileFingerprint) {
        bytes = fingerprint.bytes
        contentSHA256 = fingerprint.sha256
    }
}
