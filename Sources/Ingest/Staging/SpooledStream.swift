#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Ledger

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
