#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Ledger

/// A source of bytes read in bounded chunks; the end is an empty chunk.
protocol ChunkSource: AnyObject {
    /// The next chunk, or an empty array at the end of the input.
    func nextChunk() throws(InputError) -> [UInt8]
    /// Bytes taken from disk so far (compressed bytes for gzip input).
    var bytesFromDisk: Int64 { get }
}

/// Reads a file with plain `read(2)` in chunks of `IngestLimits.readChunkBytes`, so memory stays flat
/// whatever the file size, and errno maps exactly onto "missing" (66) versus "unreadable" (74).
///
/// With `fingerprinting`, it also hashes every byte it reads (SHA-256), so a file can be parsed and
/// fingerprinted in one pass instead of being read twice (`fingerprint()`).
final class FileChunkSource: ChunkSource {
    private let descriptor: Int32
    private let path: String
    private let chunkBytes: Int
    private(set) var bytesFromDisk: Int64 = 0
    /// The file's size when it was opened (it may still change while it is read).
    let bytesAtOpen: Int64
    private var digest: StagingDigest?

    init(path: String, chunkBytes: Int, fingerprinting: Bool = false) throws(InputError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .fileMissing(path: path) }
            throw .ioFailure(path: path, detail: "cannot open: \(String(cString: strerror(code)))")
        }
        var status = stat()
        let statusKnown = fstat(fd, &status) == 0
        if statusKnown, (status.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .ioFailure(path: path, detail: "is a directory, not a file")
        }
        self.descriptor = fd
        self.path = path
        self.chunkBytes = chunkBytes
        self.bytesAtOpen = statusKnown ? Int64(status.st_size) : 0
        self.digest = fingerprinting ? StagingDigest() : nil
    }

    deinit { close(descriptor) }

    func nextChunk() throws(InputError) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunkBytes) }
            if count >= 0 {
                chunk.removeSubrange(count...)
                bytesFromDisk += Int64(count)
                digest?.update(chunk)
                return chunk
            }
            if errno == EINTR { continue }
            throw .ioFailure(path: path, detail: "read failed: \(String(cString: strerror(errno)))")
        }
    }
}

extension FileChunkSource {
    /// Size and SHA-256 of every byte of the file: reads whatever the parser left unread (nothing,
    /// after a whole file; the rest, after a file refused part-way), then finishes the hash.
    func fingerprint() throws(InputError) -> FileFingerprint {
        precondition(digest != nil, "fingerprint() needs a source opened with fingerprinting")
        while try !nextChunk().isEmpty {}
        guard let digest else { preconditionFailure("checked above") }
        return FileFingerprint(bytes: bytesFromDisk, sha256: digest.hexDigest())
    }
}

/// Replays bytes already read (the sniffed prefix) before continuing with the underlying source.
final class PrefixedChunkSource: ChunkSource {
    private var prefix: [UInt8]
    private let rest: any ChunkSource

    init(prefix: [UInt8], rest: any ChunkSource) {
        self.prefix = prefix
        self.rest = rest
    }

    var bytesFromDisk: Int64 { rest.bytesFromDisk }

    func nextChunk() throws(InputError) -> [UInt8] {
        if !prefix.isEmpty {
            defer { prefix = [] }
            return prefix
        }
        return try rest.nextChunk()
    }
}

/// Opens an input file and, when its first bytes are the gzip magic (1f 8b), inflates it on the fly.
/// Detection is by content, never by file name: `events.jsonl` may be gzip and `events.gz` plain.
enum InputOpener {
    static let gzipMagic: [UInt8] = [0x1f, 0x8b]

    static func open(path: String, displayName: String, limits: IngestLimits, fingerprinting: Bool = false)
        throws(InputError) -> (source: any ChunkSource, isGzip: Bool, file: FileChunkSource)
    {
        let file = try FileChunkSource(path: path, chunkBytes: limits.readChunkBytes, fingerprinting: fingerprinting)
        var head: [UInt8] = []
        while head.count < 2 {
            let chunk = try file.nextChunk()
            if chunk.isEmpty { break }
            head += chunk
        }
        let replay = PrefixedChunkSource(prefix: head, rest: file)
        guard head.starts(with: gzipMagic) else { return (replay, false, file) }
        return (GzipChunkSource(compressed: replay, displayName: displayName, limits: limits), true, file)
    }
}
