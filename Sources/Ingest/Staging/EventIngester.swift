import Foundation
import Ledger

/// Stages cost-event files into the ledger database: read, validate (shape, then configuration),
/// price quantities by the rate card, and dedupe, in batches inside one transaction per file.
///
/// Guarantees:
/// - Nothing lost: each record read ends staged, duplicate (same `event_id`, same canonical
///   content) or rejected with a reason, file and line; the summary's counts add up.
/// - Idempotent: a file whose bytes were ingested before is recognised by SHA-256 and skipped;
///   a record seen before (this file, another file, an earlier run) is a duplicate; the same id with
///   other content is `eventIDConflict` and the first one stands.
/// - All or nothing per file: a file refused whole (corrupt gzip, unterminated array, ...) or a
///   crash mid-file leaves nothing of it staged, so a rerun ends exactly like one clean run.
/// - Bounded memory: one batch of `stagingBatchRecords` records at a time.
public struct EventIngester {
    /// Records staged per prepared-statement batch inside the file's transaction.
    public static let stagingBatchRecords = 2000

    /// The ledger staged into.
    public let database: LedgerDatabase
    /// The configuration records are checked against (read once).
    public let directory: IngestDirectory
    /// The limits enforced while reading.
    public var limits: IngestLimits
    /// Called after each batch with (bytes read from disk, file size); the CLI draws a progress bar.
    public var progress: ((Int64, Int64) -> Void)?

    /// Reads the configuration from `database`.
    public init(database: LedgerDatabase, limits: IngestLimits = .standard) throws {
        self.database = database
        self.directory = try database.read { try IngestDirectory(reader: $0) }
        self.limits = limits
    }

    /// Ingests one file. Throws only for a missing or unreadable file (66, 74) or a database failure;
    /// a file refused whole comes back with `fileRejection` set (exit 65).
    public func ingest(path: String, displayName: String? = nil, rejects: RejectsWriter? = nil) throws
        -> IngestFileSummary
    {
        let started = DispatchTime.now().uptimeNanoseconds
        let start = try FileStart(
            kind: "events", path: path, displayName: displayName, limits: limits, database: database)
        let (name, fingerprint) = (start.name, start.fingerprint)
        var summary = start.summary
        if start.alreadyIngested { return summary }
        let mark = try rejects?.checkpoint()
        do {
            summary = try database.write { transaction in
                var run = FileRun(summary: summary, rejects: rejects, directory: directory)
                run.progress = progress.map { report in { report($0, fingerprint.bytes) } }
                try run.stageAll(path: path, name: name, limits: limits, transaction: transaction)
                try transaction.recordIngestedFile(
                    contentSHA256: fingerprint.sha256, kind: "events", path: name, bytes: fingerprint.bytes,
                    summary: String(decoding: try JSONEncoder.sorted.encode(run.summary), as: UTF8.self))
                return run.summary
            }
        } catch let FileRefused.refused(rejection, partial) {
            summary = partial
            summary.refuse(rejection)
            if let rejects, let mark {
                try rejects.rollback(to: mark)
                try rejects.write(rejection)
            }
        }
        summary.durationMs = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        return summary
    }
}

/// A file-level refusal escaping the write transaction (so it rolls back) with the counts so far.
enum FileRefused: Error {
    case refused(Rejection, IngestFileSummary)
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// The state of staging one file inside its transaction.
private struct FileRun {
    var summary: IngestFileSummary
    let rejects: RejectsWriter?
    let directory: IngestDirectory
    var batch: [(event: StagedCostEvent, raw: CostEventRecord)] = []
    var progress: ((Int64) -> Void)?

    init(summary: IngestFileSummary, rejects: RejectsWriter?, directory: IngestDirectory) {
        self.summary = summary
        self.rejects = rejects
        self.directory = directory
        batch.reserveCapacity(EventIngester.stagingBatchRecords)
    }

    mutating func stageAll(path: String, name: String, limits: IngestLimits, transaction: LedgerTransaction) throws {
        do {
            let reader = try CostEventReader(path: path, displayName: name, limits: limits)
            summary.format = reader.layout.rawValue
            summary.gzip = reader.isGzip
            while let outcome = try reader.next() {
                summary.read += 1
                switch outcome {
                case .event(let record): try accept(record)
                case .rejected(let rejection): try reject(rejection)
                }
                if batch.count >= EventIngester.stagingBatchRecords {
                    try flush(transaction)
                    progress?(reader.bytesRead)
                }
            }
            try flush(transaction)
        } catch let error as InputError {
            guard case .fileRejected(let rejection) = error else { throw error }
            throw FileRefused.refused(rejection, summary)
        }
    }

    private mutating func accept(_ record: CostEventRecord) throws {
        if let (rule, field, detail) = directory.check(record) {
            return try reject(rejection(rule, record, field: field, detail: detail))
        }
        let credits: Credits
        let pricing: RatePricing?
        switch RateCardPricing.charge(of: record, rate: directory.rate) {
        case .rejected(let rejection): return try reject(rejection)
        case .priced(let priced, let rated):
            credits = priced
            pricing = rated
        }
        let staged = StagedCostEvent(
            eventID: record.eventID, contentHash: StagingDigest.hex(of: record.canonicalBytes),
            organisationID: record.organisationID, team: record.team, investigation: record.investigation,
            operation: record.operation, credits: credits, pricing: pricing, occurredAt: record.occurredAt,
            attributesJSON: Self.storedAttributes(record), sourceFile: record.source.file,
            sourceLine: record.source.line)
        batch.append((staged, record))
    }

    /// The attributes as written; with unknown fields, both under one object so neither is lost.
    static func storedAttributes(_ record: CostEventRecord) -> String? {
        guard let extras = record.extrasJSON else { return record.attributesJSON }
        return "{\"attributes\":\(record.attributesJSON ?? "null"),\"unknown_fields\":\(extras)}"
    }

    private func rejection(
        _ rule: RejectionRule, _ record: CostEventRecord, field: String, detail: String
    ) -> Rejection {
        Rejection(rule, file: record.source.file, line: record.source.line, field: field, detail: detail)
    }

    private mutating func reject(_ rejection: Rejection) throws {
        summary.count(rejection)
        try rejects?.write(rejection)
    }

    private mutating func flush(_ transaction: LedgerTransaction) throws {
        guard !batch.isEmpty else { return }
        let outcomes = try transaction.stage(batch.map(\.event))
        for (outcome, entry) in zip(outcomes, batch) {
            switch outcome {
            case .staged: summary.staged += 1
            case .duplicate: summary.duplicates += 1
            case .conflict(let existingSource, let existingLine):
                try reject(rejection(
                    .eventIDConflict, entry.raw, field: "event_id",
                    detail: "\"\(entry.event.eventID)\" was first staged from \(existingSource):\(existingLine) "
                        + "with different content"))
            }
        }
        batch.removeAll(keepingCapacity: true)
    }
}

/// Size and SHA-256 of a file's bytes on disk, read in chunks.
enum FileFingerprint {
    static func of(path: String, limits: IngestLimits) throws(InputError) -> (bytes: Int64, sha256: String) {
        let source = try FileChunkSource(path: path, chunkBytes: limits.readChunkBytes)
        var digest = StagingDigest()
        while true {
            let chunk = try source.nextChunk()
            if chunk.isEmpty { break }
            digest.update(chunk)
        }
        return (source.bytesFromDisk, digest.hexDigest())
    }
}
