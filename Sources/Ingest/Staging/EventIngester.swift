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
/// - Bounded memory: one record at a time, staged through one prepared statement.
public struct EventIngester {
    /// Records between two progress reports (each record is staged as soon as it is read).
    public static let progressRecords = 2000

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
            kind: "events", path: path, displayName: displayName, limits: limits, database: database,
            hashing: .whileReadingWhenNewSize)
        let name = start.name
        var summary = start.summary
        if start.alreadyIngested { return summary }
        let mark = try rejects?.checkpoint()
        do {
            summary = try database.write { transaction in
                var run = FileRun(summary: summary, rejects: rejects, directory: directory)
                let total = summary.bytes
                run.progress = progress.map { report in { report($0, total) } }
                let fingerprint = try run.stageAll(
                    path: path, name: name, limits: limits, known: start.fingerprint, transaction: transaction)
                run.summary.record(fingerprint)
                if start.fingerprint == nil, try transaction.reader.ingestedFile(contentSHA256: fingerprint.sha256) != nil {
                    // The file changed after its size was checked and now repeats an ingested one.
                    throw FileSeenBefore.sameContent(fingerprint)
                }
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
        } catch let FileSeenBefore.sameContent(fingerprint) {
            if let rejects, let mark { try rejects.rollback(to: mark) }
            summary.record(fingerprint)
            summary.alreadyIngested = true
            return summary
        }
        summary.durationMs = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        return summary
    }
}

/// A file-level refusal escaping the write transaction (so it rolls back) with the counts so far.
enum FileRefused: Error {
    case refused(Rejection, IngestFileSummary)
}

/// A file hashed while it was read turned out to be one ingested before: roll back, change nothing.
enum FileSeenBefore: Error {
    case sameContent(FileFingerprint)
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
    var progress: ((Int64) -> Void)?

    init(summary: IngestFileSummary, rejects: RejectsWriter?, directory: IngestDirectory) {
        self.summary = summary
        self.rejects = rejects
        self.directory = directory
    }

    /// Stages every record of the file and returns its fingerprint: `known` when it was hashed up
    /// front, else hashed while reading. A refusal leaves with the counts and fingerprint so far.
    mutating func stageAll(
        path: String, name: String, limits: IngestLimits, known: FileFingerprint?, transaction: LedgerTransaction
    ) throws -> FileFingerprint {
        var reader: CostEventReader?
        do {
            let opened = try CostEventReader(
                path: path, displayName: name, limits: limits, fingerprinting: known == nil)
            reader = opened
            summary.format = opened.layout.rawValue
            summary.gzip = opened.isGzip
            let stager = try transaction.costEventStager()
            while let outcome = try opened.next() {
                summary.read += 1
                switch outcome {
                case .event(let record): try accept(record, stager: stager)
                case .rejected(let rejection): try reject(rejection)
                }
                if summary.read % EventIngester.progressRecords == 0 { progress?(opened.bytesRead) }
            }
            return try known ?? opened.fingerprint()
        } catch let error as InputError {
            guard case .fileRejected(let rejection) = error else { throw error }
            // Refused before the reader existed (an empty file, say): hash it apart, it is rare.
            summary.record(try known ?? reader?.fingerprint() ?? FileFingerprint.of(path: path, limits: limits))
            throw FileRefused.refused(rejection, summary)
        }
    }

    private mutating func accept(_ record: CostEventRecord, stager: CostEventStager) throws {
        if let (rule, field, detail) = directory.check(record) {
            return try reject(rejection(rule, record, field: field, detail: detail))
        }
        var credits = record.credits
        var pricing: RatePricing?
        if case .quantity(let quantity, let unit) = record.charge {
            let rate = directory.rate(organisationID: record.organisationID, operation: record.operation, unit: unit)
            guard let rate else {
                return try reject(rejection(
                    .noRateCardEntry, record, field: "unit",
                    detail: "no rate for operation \(record.operation) in unit \(unit) for \(record.organisationID)"))
            }
            credits = Pricing.credits(quantity: quantity, rate: rate)
            pricing = RatePricing(quantity: quantity.description, unit: unit, creditsPerUnit: rate)
            guard let priced = credits, priced.isPositive else {
                return try reject(rejection(
                    credits == nil ? .creditsOutOfRange : .creditsMustBePositive, record, field: "quantity",
                    detail: "\(quantity) \(unit) at \(rate) credits each prices to "
                        + (credits.map { "\($0) credits" } ?? "more than fits")))
            }
        }
        guard let credits else { preconditionFailure("a parsed event has credits or a quantity") }
        let staged = StagedCostEvent(
            eventID: record.eventID, contentHash: StagingDigest.hex(of: record.canonicalBytes),
            organisationID: record.organisationID, team: record.team, investigation: record.investigation,
            operation: record.operation, credits: credits, pricing: pricing, occurredAt: record.occurredAt,
            attributesJSON: Self.storedAttributes(record), sourceFile: record.source.file,
            sourceLine: record.source.line)
        switch try stager.stage(staged) {
        case .staged: summary.staged += 1
        case .duplicate: summary.duplicates += 1
        case .conflict(let existingSource, let existingLine):
            try reject(rejection(
                .eventIDConflict, record, field: "event_id",
                detail: "\"\(record.eventID)\" was first staged from \(existingSource):\(existingLine) "
                    + "with different content"))
        }
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
}
