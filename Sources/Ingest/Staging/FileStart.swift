#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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

extension IngestFileSummary {
    /// Sets the size and hash once they are known (after the read, when hashed while reading).
    mutating func record(_ fingerprint: FileFingerprint) {
        bytes = fingerprint.bytes
        contentSHA256 = fingerprint.sha256
    }
}

/// The rejections the ledger keeps for an ingested file (`ingest_rejections`), written to the rejects
/// file again whenever the same content is skipped as already ingested: a run killed after its commit
/// but before its rejects file was in place loses nothing, and the rerun ends with the same rejects
/// and exit code as a run that was never interrupted.
enum RecordedRejections {
    /// A rejection the ledger holds under a rule this build does not know (a newer build wrote it).
    struct UnknownRule: Error, CustomStringConvertible {
        let reason: String
        var description: String { "the ledger holds a rejection with the unknown rule \"\(reason)\"" }
    }

    /// Writes the rejections recorded for `contentSHA256` to `rejects` in their original order and
    /// counts them into `summary`.
    static func reemit(
        contentSHA256: String, database: LedgerDatabase, rejects: RejectsWriter?, summary: inout IngestFileSummary
    ) throws {
        var count = 0
        try database.read { reader in
            try reader.forEachRejection(ofIngestedFile: contentSHA256) { recorded in
                guard let rejection = Rejection(recorded: recorded) else { throw UnknownRule(reason: recorded.reason) }
                try rejects?.write(rejection)
                count += 1
            }
        }
        summary.rejectedWhenIngested = count
    }
}

/// A pipe copied once into a temporary regular file, for a reader that needs its input twice (an
/// order export is hashed, then read). Removed when the value goes.
final class SpooledStream {
    let path: String

    /// Copies `source` up to `bytesMax` bytes; more is `fileTooLarge` (exit 65), as for a file.
    init(copying source: String, displayName: String, bytesMax: Int, limits: IngestLimits) throws(InputError) {
        let input = try FileChunkSource(path: source, chunkBytes: limits.readChunkBytes)
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("credits-spool-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
            let output = FileHandle(forWritingAtPath: temporary)
        else { throw .ioFailure(path: source, detail: "cannot create a temporary copy of the pipe") }
        path = temporary
        defer { try? output.close() }
        var copied = 0
        while true {
            let chunk = try input.nextChunk()
            if chunk.isEmpty { return }
            copied += chunk.count
            guard copied <= bytesMax else {
                throw .fileRejected(Rejection(
                    .fileTooLarge, file: displayName, detail: "larger than orderFileBytesMax (\(bytesMax) bytes)"))
            }
            do {
                try output.write(contentsOf: chunk)
            } catch {
                throw .ioFailure(path: source, detail: "cannot copy the pipe: \(error)")
            }
        }
    }

    deinit { unlink(path) }
}
