/// Reads a cost-event file record by record with bounded memory: JSON Lines or a JSON array,
/// plain or gzip (both detected from the content, not the name).
///
///     let reader = try CostEventReader(path: "inbox/events-2026-11-03.jsonl.gz")
///     while let outcome = try reader.next() {
///         switch outcome {
///         case .event(let record): stage(record)
///         case .rejected(let rejection): rejects.write(rejection)
///         }
///     }
///
/// Record-level problems come back as `.rejected` values and reading continues. Problems that make
/// the whole file unusable (empty, corrupt or truncated gzip, gzip bomb, an unterminated array) are
/// thrown as `InputError.fileRejected` — possibly after records were returned, so the caller must
/// stage a file in one transaction and roll it back on a throw. A missing file throws `.fileMissing`.
public final class CostEventReader {
    /// The name used in messages and rejects files (the path as the user gave it, by default).
    public let displayName: String
    /// JSON Lines or JSON array.
    public let layout: EventFileLayout
    /// True when the file was gzip-compressed.
    public let isGzip: Bool
    private let stream: ByteStream
    private let file: FileChunkSource
    private let splitter: any RecordSplitter
    private let parser: CostEventParser
    /// Records returned so far, events and rejections alike (the "read" count of the summary).
    public private(set) var recordsRead = 0

    /// Opens `path`. Throws `.fileMissing` (exit 66), `.ioFailure` (74) or `.fileRejected` (65).
    public convenience init(
        path: String, displayName: String? = nil, limits: IngestLimits = .standard
    ) throws(InputError) {
        try self.init(path: path, displayName: displayName, limits: limits, fingerprinting: false)
    }

    /// With `fingerprinting`, the bytes on disk are also hashed as they are read (`fingerprint()`).
    init(path: String, displayName: String?, limits: IngestLimits, fingerprinting: Bool) throws(InputError) {
        let name = displayName ?? path
        let opened = try InputOpener.open(
            path: path, displayName: name, limits: limits, fingerprinting: fingerprinting)
        let stream = ByteStream(source: opened.source)
        let detected = try RecordSplitters.detect(stream: stream, displayName: name, limits: limits)
        self.displayName = name
        self.isGzip = opened.isGzip
        self.stream = stream
        self.file = opened.file
        self.splitter = detected.0
        self.layout = detected.1
        self.parser = CostEventParser(displayName: name, limits: limits)
    }

    /// Bytes read from disk so far (compressed bytes for gzip), for progress and the summary.
    public var bytesRead: Int64 { stream.bytesFromDisk }

    /// The next event or rejection; nil at the end of the file.
    public func next() throws(InputError) -> CostEventOutcome? {
        guard let split = try splitter.next() else { return nil }
        recordsRead += 1
        switch split {
        case .record(let record): return parser.parse(record)
        case .rejected(let rejection): return .rejected(rejection)
        }
    }

    /// Size and SHA-256 of the file's bytes on disk, hashed while it was read (reads any rest first).
    /// Only for a reader opened with `fingerprinting`.
    func fingerprint() throws(InputError) -> FileFingerprint {
        try file.fingerprint()
    }

    /// Reads the rest of the file. Convenient for small files and tests; staging should use `next()`.
    public func readAll() throws(InputError) -> [CostEventOutcome] {
        var outcomes: [CostEventOutcome] = []
        while let outcome = try next() { outcomes.append(outcome) }
        return outcomes
    }
}
