#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Ledger

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
        kind: IngestKind, path: String, displayName: String?, limits: IngestLimits, store: any StagingStore,
        hashing: Hashing = .upFront
    ) throws {
        name = displayName ?? path
        if hashing == .whileReadingWhenNewSize, Self.isStream(path) {
            // A pipe (a named FIFO, `<(...)`, /dev/stdin) can be read once: opening it here to learn a
            // size it does not have would close it under its writer, and the read would wait for ever
            // for another. It is hashed while it is read, as a file of a new size is.
            fingerprint = nil
            summary = IngestFileSummary(file: name, kind: kind, bytes: 0, contentSHA256: "")
            alreadyIngested = false
            return
        }
        if hashing == .whileReadingWhenNewSize {
            let size = try FileChunkSource(path: path, chunkBytes: limits.readChunkBytes).bytesAtOpen
            if try !store.hasIngestedFile(bytes: size) {
                fingerprint = nil
                summary = IngestFileSummary(file: name, kind: kind, bytes: size, contentSHA256: "")
                alreadyIngested = false
                return
            }
        }
        let fingerprint = try FileFingerprint.of(path: path, limits: limits)
        var summary = IngestFileSummary(
            file: name, kind: kind, bytes: fingerprint.bytes, contentSHA256: fingerprint.sha256)
        alreadyIngested = try store.ingestedFile(contentSHA256: fingerprint.sha256) != nil
        summary.alreadyIngested = alreadyIngested
        self.fingerprint = fingerprint
        self.summary = summary
    }
}

extension FileStart {
    /// True when `path` names something other than a regular file or directory (a FIFO, a character
    /// device such as /dev/stdin on a terminal, a socket): bytes that can be read only once.
    static func isStream(_ path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        let type = status.st_mode & S_IFMT
        return type != S_IFREG && type != S_IFDIR
    }
}
