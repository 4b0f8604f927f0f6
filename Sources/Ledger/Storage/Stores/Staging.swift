import GRDB

/// One validated cost event, ready to stage.
public struct StagedCostEvent: Sendable, Hashable {
    public var eventID: String
    /// SHA-256 of the event's canonical content: equal digests mean a duplicate, different
    /// digests under one id mean a conflict.
    public var contentSHA256: ContentDigest
    public var organisationID: String
    public var team: String
    public var investigation: String?
    public var operation: String
    public var credits: Credits
    /// Set when the credits were priced from quantity × rate card (the rate is recorded).
    public var pricing: RatePricing?
    public var occurredAt: Instant
    /// Raw JSON of `attributes` and any unknown fields, kept with the record.
    public var attributesJSON: String?
    public var sourceFile: String
    public var sourceLine: Int

    public init(
        eventID: String, contentSHA256: ContentDigest, organisationID: String, team: String, investigation: String?,
        operation: String, credits: Credits, pricing: RatePricing? = nil, occurredAt: Instant,
        attributesJSON: String? = nil, sourceFile: String, sourceLine: Int
    ) {
        self.eventID = eventID
        self.contentSHA256 = contentSHA256
        self.organisationID = organisationID
        self.team = team
        self.investigation = investigation
        self.operation = operation
        self.credits = credits
        self.pricing = pricing
        self.occurredAt = occurredAt
        self.attributesJSON = attributesJSON
        self.sourceFile = sourceFile
        self.sourceLine = sourceLine
    }
}
/// How an event's credits were priced from the rate card.
public struct RatePricing: Sendable, Hashable {
    /// The quantity exactly as given (decimal text).
    public var quantity: String
    public var unit: String
    public var creditsPerUnit: Credits

    public init(quantity: String, unit: String, creditsPerUnit: Credits) {
        self.quantity = quantity
        self.unit = unit
        self.creditsPerUnit = creditsPerUnit
    }
}
/// What staging did with one record.
public enum StagingOutcome: Sendable, Hashable {
    case staged
    /// Same id, same content: already staged (this run, an earlier file, or an earlier run).
    case duplicate
    /// Same id, different content: refused; the first one stands.
    case conflict(existingSource: String, existingLine: Int)

    /// The outcome for an event whose id an earlier event already holds, staged from `source:line` with
    /// content digest `held`: the same content is a duplicate, other content a conflict (the first one
    /// stands). Both stores decide with this.
    static func ofRepeat(_ content: ContentDigest, held: ContentDigest, source: @autoclosure () -> String, line: Int)
        -> StagingOutcome
    {
        content == held ? .duplicate : .conflict(existingSource: source(), existingLine: line)
    }
}
/// A file already ingested.
public struct IngestedFile: Sendable, Hashable {
    public let contentSHA256: String
    public let kind: IngestKind
    public let path: String
    public let bytes: Int64
    public let ingestedAt: Instant
    /// The JSON summary written when it was ingested.
    public let summary: String
}
extension LedgerTransaction {
    /// Stages a batch of cost events in this transaction. Idempotent: each record ends staged,
    /// duplicate or conflict, decided against everything staged before (including earlier in
    /// the same batch).
    public func stage(_ events: [StagedCostEvent]) throws -> [StagingOutcome] {
        guard let postgres = session as? PostgresSession else {
            let stager = try costEventStager()
            return try events.map { try stager.stage($0) }
        }
        return try events.map { event in
            try lockOrganisation(event.organisationID)
            return try PostgresEventStaging.stage(event, on: postgres, now: now)
        }
    }

    /// A stager for many events in this transaction (the bulk path: one prepared statement).
    /// It touches `cost_events` only, so it leaves deferred balance changes deferred (the live
    /// usage route stages each event of a group commit).
    public func costEventStager() throws -> CostEventStager {
        try CostEventStager(db: connection, now: now)
    }

    /// Runs `body` with SQLite's page cache limited to `kibibytes`, then restores the limit.
    ///
    /// Batch stages get a 32 MiB cache for indexes touched in random order. Staging appends to the
    /// end of its indexes: measured on 1M events, 2 MiB and 64 MiB stage equally fast, but the big
    /// cache makes memory grow with the file until it is full (43 MB at 100k, 111 MB at 1M).
    public func withPageCache<T>(kibibytes: Int, _ body: () throws -> T) throws -> T {
        precondition(kibibytes > 0, "a page cache of at least one KiB")
        let previous = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
        let restore = "PRAGMA cache_size = \(previous)"
        try db.execute(sql: "PRAGMA cache_size = -\(kibibytes)")
        let result: T
        do {
            result = try body()
        } catch {
            // The body's failure is the one to report; restoring the limit is best effort here.
            try? db.execute(sql: restore)
            throw error
        }
        try db.execute(sql: restore)
        return result
    }

    /// Records that a file's content was ingested, with its summary (JSON), and gives it the
    /// rejections recorded in this transaction (`recordRejection`).
    public func recordIngestedFile(contentSHA256: String, kind: IngestKind, path: String, bytes: Int64, summary: String) throws {
        try db.execute(
            sql: """
                INSERT INTO ingested_files (content_sha256, kind, path, bytes, ingested_at, summary)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(content_sha256) DO NOTHING
                """,
            arguments: [contentSHA256, kind.rawValue, path, bytes, now.millisecondsSinceEpoch, summary])
        try claimPendingRejections(contentSHA256: contentSHA256, fileIsNew: db.changesCount == 1)
    }
}
extension LedgerReader {
    public func ingestedFile(contentSHA256: String) throws -> IngestedFile? {
        try Row.fetchOne(db, sql: "SELECT * FROM ingested_files WHERE content_sha256 = ?", arguments: [contentSHA256])
            .map { row in
                IngestedFile(
                    contentSHA256: row["content_sha256"],
                    kind: try IngestKind(stored: row["kind"], table: "ingested_files", column: "kind"), path: row["path"],
                    bytes: row["bytes"],
                    ingestedAt: Instant(millisecondsSinceEpoch: row["ingested_at"]), summary: row["summary"])
            }
    }

    /// True when a file of exactly this many bytes was ingested before. Only then can a file's
    /// content be a repeat, so ingest hashes a file of a new size while reading it, not twice.
    public func hasIngestedFile(bytes: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM ingested_files WHERE bytes = ?)", arguments: [bytes])
            ?? false
    }

    public func stagedEventCount() throws -> Int {
        Int(try sqlReadingNoBalances.integer("SELECT COUNT(*) FROM cost_events") ?? 0)
    }
}
