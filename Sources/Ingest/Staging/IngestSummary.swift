import Ledger

/// What ingesting one file did. Always `read == staged + duplicates + rejected` (PRODUCT.md
/// invariant 3): every record read ends as exactly one of the three.
public struct IngestFileSummary: Sendable, Codable, Equatable {
    /// The file as the user named it.
    public var file: String
    /// `events` or `orders`.
    public var kind: IngestKind
    /// The detected layout (`jsonLines`, `jsonArray`, `apiList`, `settlementReport`, ...).
    public var format: String?
    /// True when the file was gzip-compressed.
    public var gzip: Bool
    /// Bytes on disk.
    public var bytes: Int64
    /// SHA-256 of the bytes on disk: the same content again is recognised and skipped.
    public var contentSHA256: String
    /// True when this exact content was ingested before; nothing was read or changed.
    public var alreadyIngested: Bool
    /// Records read.
    public var read: Int
    /// Records newly staged.
    public var staged: Int
    /// Records already staged with the same content.
    public var duplicates: Int
    /// Records refused, with a reason each.
    public var rejected: Int
    /// Rejections per reason code.
    public var rejectedByReason: [String: Int]
    /// When `alreadyIngested`: the records refused when this content was first ingested, written again
    /// to this run's rejects file, so every run of the same input leaves the same rejects and exit code.
    public var rejectedWhenIngested: Int
    /// Set when the whole file was refused (exit 65); nothing of it was staged.
    public var fileRejection: String?
    /// Wall-clock milliseconds spent on the file.
    public var durationMs: Int
    /// Orders only: observations with nothing tying them to an organisation (no `metadata`
    /// organisation on any view, no purchase under their reference or id, no related order).
    /// Kept, flagged for reconcile.
    public var ordersNotTied: Int?

    init(file: String, kind: IngestKind, bytes: Int64, contentSHA256: String) {
        self.file = file
        self.kind = kind
        self.format = nil
        self.gzip = false
        self.bytes = bytes
        self.contentSHA256 = contentSHA256
        self.alreadyIngested = false
        self.read = 0
        self.staged = 0
        self.duplicates = 0
        self.rejected = 0
        self.rejectedByReason = [:]
        self.rejectedWhenIngested = 0
        self.fileRejection = nil
        self.durationMs = 0
        self.ordersNotTied = nil
    }

    /// True when the counts add up, which every summary must.
    public var balances: Bool { read == staged + duplicates + rejected }

    mutating func count(_ rejection: Rejection) {
        rejected += 1
        rejectedByReason[rejection.rule.code, default: 0] += 1
    }

    /// The whole file was refused: everything read so far is rejected with the file's reason and
    /// nothing stays staged (the transaction rolled back).
    mutating func refuse(_ rejection: Rejection) {
        staged = 0
        duplicates = 0
        rejected = read
        rejectedByReason = read > 0 ? [rejection.rule.code: read] : [:]
        fileRejection = rejection.message
    }
}

/// The summary of one `credits ingest` run: each file and the totals.
public struct IngestRunSummary: Sendable, Codable, Equatable {
    /// Each file, in the order given.
    public var files: [IngestFileSummary]
    /// Records read.
    public var read: Int
    /// Records newly staged.
    public var staged: Int
    /// Records already staged with the same content.
    public var duplicates: Int
    /// Records refused, with a reason each.
    public var rejected: Int
    /// Rejections per reason code over all files.
    public var rejectedByReason: [String: Int]
    /// Files refused whole.
    public var filesRefused: Int
    /// Files skipped because their content was ingested before.
    public var filesAlreadyIngested: Int
    /// Records those files refused when they were ingested, written again to the rejects file.
    public var rejectedWhenIngested: Int

    /// Totals over `files`.
    public init(files: [IngestFileSummary]) {
        self.files = files
        read = files.reduce(0) { $0 + $1.read }
        staged = files.reduce(0) { $0 + $1.staged }
        duplicates = files.reduce(0) { $0 + $1.duplicates }
        rejected = files.reduce(0) { $0 + $1.rejected }
        rejectedByReason = files.reduce(into: [:]) { total, file in
            for (code, count) in file.rejectedByReason { total[code, default: 0] += count }
        }
        filesRefused = files.filter { $0.fileRejection != nil }.count
        filesAlreadyIngested = files.filter(\.alreadyIngested).count
        rejectedWhenIngested = files.reduce(0) { $0 + $1.rejectedWhenIngested }
    }

    /// True when the run's rejects file is not empty: records were rejected now, or when a file
    /// skipped as already ingested was first ingested (the stage then exits 3, `StageExit`).
    public var hasRejections: Bool { rejected > 0 || rejectedWhenIngested > 0 }
}
