import Foundation
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

extension IngestFileSummary {
    /// Sets the size and hash once they are known (after the read, when hashed while reading).
    mutating func record(_ fingerprint: FileFingerprint) {
        bytes = fingerprint.bytes
        contentSHA256 = fingerprint.sha256
    }
}
