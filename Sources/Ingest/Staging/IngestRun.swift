import Foundation
import Ledger

/// One `credits ingest` run over several files, with the rejects-file policy: every rejection of the
/// run goes to one rejects file (by default `rejects/ingest-KIND-TIME.jsonl` beside the database),
/// removed again when nothing was rejected; the files are ingested in order, each committed on its
/// own; the store finishes the run (SQLite checkpoints its log). The executable only parses arguments and prints.
public enum IngestRun {
    /// What a run did, for the stage's summary.
    public struct Outcome: Sendable {
        public let summary: IngestRunSummary
        /// The rejects file, when anything was rejected (now, or when a skipped file was first ingested).
        public let rejectsFile: String?
    }

    /// The rejects file of a run: `explicit` when given, else a new file named for the kind and
    /// time in `rejects/` beside the database (in the working directory when the ledger is a
    /// PostgreSQL database); the folder is created.
    public static func rejectsPath(explicit: String?, kind: IngestKind, store: StoreLocation, now: Instant) -> String {
        if let explicit { return explicit }
        let beside: URL = switch store {
        case .sqlite(let path): URL(fileURLWithPath: path).deletingLastPathComponent()
        case .postgres: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        }
        let directory = beside.appendingPathComponent("rejects")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stamp = now.iso8601.filter { $0.isNumber || $0 == "T" }
        return directory.appendingPathComponent("\(RejectsWriter.defaultNamePrefix)\(kind.rawValue)-\(stamp)Z.jsonl").path
    }

    /// Ingests `files` in order with `ingestFile`, all rejections into the file at `rejectsPath`.
    public static func run(
        files: [String], store: any StagingStore, rejectsPath: String,
        _ ingestFile: (String, RejectsWriter) throws -> IngestFileSummary
    ) throws -> Outcome {
        let rejects = try RejectsWriter(path: rejectsPath)
        var summaries: [IngestFileSummary] = []
        for file in files {
            summaries.append(try ingestFile(file, rejects))
            // Between a file's commit and the rejects file's rename: a kill here must lose no
            // rejection (the ledger keeps them; the rerun writes them again).
            CrashPoint.hit("ingest.afterCommit")
        }
        try rejects.finish()
        if rejects.count == 0 { try? FileManager.default.removeItem(atPath: rejectsPath) }
        try store.finishRun()
        return Outcome(summary: IngestRunSummary(files: summaries), rejectsFile: rejects.count > 0 ? rejectsPath : nil)
    }
}
