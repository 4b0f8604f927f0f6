import Foundation
import Ledger

/// Stages cost-event files into the ledger (SQLite or PostgreSQL, any `StagingStore`): read, validate
/// (shape, then configuration), price quantities by the rate card, and dedupe, in batches inside one
/// unit per file. Reading and parsing run on a second thread (`EventPreparer`) while the staging
/// thread stages what it has prepared, in file order: parsing and the store each take about half the time.
///
/// Guarantees:
/// - Nothing lost: each record read ends staged, duplicate (same `event_id`, same canonical
///   content) or rejected with a reason, file and line; the summary's counts add up.
/// - Idempotent: a file whose bytes were ingested before is recognised by SHA-256 and skipped;
///   a record seen before (this file, another file, an earlier run) is a duplicate; the same id with
///   other content is `eventIDConflict` and the first one stands.
/// - All or nothing per file: a file refused whole (corrupt gzip, unterminated array, ...) or a
///   crash mid-file leaves nothing of it staged, so a rerun ends exactly like one clean run.
/// - Bounded memory: at most `handOffBatchesMax` batches of `handOffBatchRecords` records between
///   the reading thread and the staging thread.
public struct EventIngester {
    /// Records per batch handed from the reading thread to the staging thread (and between two
    /// progress reports).
    public static let handOffBatchRecords = 1024
    /// Batches the reading thread may run ahead of the staging thread: with the batch size, this
    /// bounds the records in memory whatever the file size.
    public static let handOffBatchesMax = 4
    /// The ledger staged into.
    public let store: any StagingStore
    /// The configuration records are checked against (read once).
    public let directory: IngestDirectory
    /// The limits enforced while reading.
    public var limits: IngestLimits
    /// Called after each batch with (bytes read from disk, file size); the CLI draws a progress bar.
    public var progress: ((Int64, Int64) -> Void)?

    /// Reads the configuration from `store`.
    public init(store: any StagingStore, limits: IngestLimits = .standard) throws {
        self.store = store
        self.directory = IngestDirectory(try store.ingestConfiguration())
        self.limits = limits
    }

    /// Ingests one file. Throws only for a missing or unreadable file (66, 74) or a database failure;
    /// a file refused whole comes back with `fileRejection` set (exit 65).
    public func ingest(path: String, displayName: String? = nil, rejects: RejectsWriter? = nil) throws
        -> IngestFileSummary
    {
        let started = DispatchTime.now().uptimeNanoseconds
        let start = try FileStart(
            kind: .events, path: path, displayName: displayName, limits: limits, store: store,
            hashing: .whileReadingWhenNewSize)
        let name = start.name
        var summary = start.summary
        if start.alreadyIngested {
            try RecordedRejections.reemit(
                contentSHA256: summary.contentSHA256, store: store, rejects: rejects, summary: &summary)
            return summary
        }
        let mark = try rejects?.checkpoint()
        do {
            summary = try store.stagingFile { unit in
                var run = FileRun(
                    summary: summary, rejects: rejects, directory: directory, rawBytesMax: limits.rejectRawBytesMax)
                let total = summary.bytes
                run.progress = progress.map { report in { report($0, total) } }
                let fingerprint = try run.stageAll(
                    path: path, name: name, limits: limits, known: start.fingerprint, unit: unit)
                run.summary.record(fingerprint)
                if start.fingerprint == nil, try unit.ingestedFile(contentSHA256: fingerprint.sha256) != nil {
                    // The file changed after its size was checked and now repeats an ingested one.
                    throw FileSeenBefore.sameContent(fingerprint)
                }
                try unit.recordIngestedFile(
                    contentSHA256: fingerprint.sha256, kind: .events, path: name, bytes: fingerprint.bytes,
                    summary: String(decoding: try JSONEncoder.sorted.encode(run.summary), as: UTF8.self))
                // Everything of the file is written and nothing committed: a kill here must leave none of it.
                CrashPoint.hit("ingest.beforeCommit")
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
            try RecordedRejections.reemit(
                contentSHA256: fingerprint.sha256, store: store, rejects: rejects, summary: &summary)
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

/// The staging side of one file inside its unit: takes the reading side's batches in file order,
/// stages each batch's events at once (each decided staged, duplicate or conflict, in order), writes
/// each rejection to the rejects file and, in the same unit as the staging, to the ledger
/// (`ingest_rejections`), and counts. The reading side (`EventPreparer`) runs on its own thread meanwhile.
private struct FileRun {
    var summary: IngestFileSummary
    let rejects: RejectsWriter?
    let directory: IngestDirectory
    /// How much of a rejected record's raw bytes the ledger keeps (the rejects file's limit).
    let rawBytesMax: Int
    var progress: ((Int64) -> Void)?

    init(summary: IngestFileSummary, rejects: RejectsWriter?, directory: IngestDirectory, rawBytesMax: Int) {
        self.summary = summary
        self.rejects = rejects
        self.directory = directory
        self.rawBytesMax = rawBytesMax
    }

    /// Stages every record of the file and returns its fingerprint: `known` when it was hashed up
    /// front, else hashed while reading. A refusal leaves with the counts and fingerprint so far.
    /// The reading thread never outlives this call: on any exit it is stopped and waited for.
    mutating func stageAll(
        path: String, name: String, limits: IngestLimits, known: FileFingerprint?, unit: any StagingUnit
    ) throws -> FileFingerprint {
        let handOff = HandOff<ReadingReport>(capacity: EventIngester.handOffBatchesMax)
        let preparer = EventPreparer(directory: directory, limits: limits)
        let readingEnded = DispatchSemaphore(value: 0)
        let reading = Thread {
            preparer.read(path: path, name: name, known: known, into: handOff)
            readingEnded.signal()
        }
        reading.start()
        defer {
            handOff.stop()
            readingEnded.wait()
        }
        while true {
            switch handOff.take() {
            case .opened(let layout, let isGzip):
                summary.format = layout.rawValue
                summary.gzip = isGzip
            case .records(let records, let bytesRead):
                try stage(records, unit: unit)
                progress?(bytesRead)
            case .finished(let fingerprint):
                return fingerprint
            case .refused(let rejection, let fingerprint):
                summary.record(fingerprint)
                throw FileRefused.refused(rejection, summary)
            case .failed(let error):
                throw error
            }
        }
    }

    /// Stages one batch: its events in one call, then each record's result in file order, so the
    /// rejects file and `ingest_rejections` list refusals as the file holds them.
    private mutating func stage(_ records: [PreparedRecord], unit: any StagingUnit) throws {
        let events = records.compactMap { record -> StagedCostEvent? in
            guard case .stage(let priced) = record else { return nil }
            return priced.staged
        }
        let outcomes = try unit.stage(events)
        precondition(outcomes.count == events.count, "one outcome per staged event")
        var next = 0
        var refused: [Rejection] = []
        for record in records {
            summary.read += 1
            guard case .stage = record else {
                if case .reject(let rejection) = record { refused.append(rejection) }
                continue
            }
            let event = events[next]
            switch outcomes[next] {
            case .staged: summary.staged += 1
            case .duplicate: summary.duplicates += 1
            case .conflict(let existingSource, let existingLine):
                refused.append(Rejection(
                    .eventIDConflict, file: event.sourceFile, line: event.sourceLine, field: "event_id",
                    detail: "\"\(event.eventID)\" was first staged from \(existingSource):\(existingLine) "
                        + "with different content"))
            }
            next += 1
        }
        guard !refused.isEmpty else { return }
        try unit.recordRejections(refused.map { $0.recorded(rawBytesMax: rawBytesMax) })
        for rejection in refused {
            summary.count(rejection)
            try rejects?.write(rejection)
        }
    }
}
