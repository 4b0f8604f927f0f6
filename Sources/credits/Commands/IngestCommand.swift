import ArgumentParser
import Foundation
import Ingest
import Ledger

/// `credits ingest events|orders FILE...`: stage input files into the ledger database.
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Stage cost events or Revolut order exports.",
        discussion: """
            Each record ends staged, duplicate or rejected (with file, line, field and reason in the
            rejects file); read = staged + duplicate + rejected. A file already ingested (same bytes) is
            skipped, and the records it had rejected are written to this run's rejects file again. Exit 0
            clean, 3 records rejected (the rest staged, or rejected when a skipped file was ingested), 65 a
            file refused whole (nothing of it staged), 66 a named file missing (nothing ingested).
            """,
        subcommands: [IngestEventsCommand.self, IngestOrdersCommand.self])
}

/// Options both ingest subcommands take.
struct IngestOptions: ParsableArguments {
    @Argument(help: "Input files (gzip is detected from the content).")
    var files: [String]

    @Option(
        name: .long, help: "Rejects file (JSON Lines). Default: rejects/ingest-KIND-TIME.jsonl beside the database.")
    var rejects: String?

    /// Refuses the run before touching anything when a named file is missing (exit 66).
    func requireFilesExist() throws {
        for file in files where !FileManager.default.fileExists(atPath: file) {
            throw InputError.fileMissing(path: file)
        }
    }

    func rejectsPath(kind: IngestKind, store: StoreLocation, now: Instant) -> String {
        IngestRun.rejectsPath(explicit: rejects, kind: kind, store: store, now: now)
    }
}

/// How the command line runs and prints an `IngestRun` (the run itself lives in Ingest).
enum IngestCommandRun {
    /// Runs `ingestFile` over every file through `IngestRun`, and builds the stage outcome.
    static func run(
        kind: IngestKind, options: GlobalOptions, ingest: IngestOptions,
        _ ingestFile: (any StagingStore, String, RejectsWriter) throws -> IngestFileSummary
    ) throws {
        let command = "ingest \(kind.rawValue)"
        // On PostgreSQL the stage lock is the database's advisory lock, taken once connected.
        try Runner.run(command, options: options, lock: !options.store.isPostgres) {
            try ingest.requireFilesExist()
            let clock = try options.clock()
            let outcome = try withStore(options: options, stage: command, clock: clock) { store in
                try IngestRun.run(
                    files: ingest.files, store: store,
                    rejectsPath: ingest.rejectsPath(kind: kind, store: options.store, now: clock())
                ) { file, rejects in try ingestFile(store, file, rejects) }
            }
            let summary = outcome.summary
            var human = summary.files.map(describe)
            human.append("total: read \(summary.read), staged \(summary.staged), duplicate \(summary.duplicates), "
                + "rejected \(summary.rejected)")
            if let rejectsFile = outcome.rejectsFile { human.append("rejects: \(rejectsFile)") }
            return StageOutcome(
                summary: Output(summary: summary, rejectsFile: outcome.rejectsFile), human: human,
                needsReview: summary.hasRejections, badData: summary.filesRefused > 0)
        }
    }

    /// Opens the ledger `--db` names for `body`: a SQLite file, or a PostgreSQL database whose advisory
    /// lock for `stage` this run then holds (75 when another run holds it, unless `--wait`).
    private static func withStore<T>(
        options: GlobalOptions, stage: String, clock: @escaping @Sendable () -> Instant,
        _ body: (any StagingStore) throws -> T
    ) throws -> T {
        switch options.store {
        case .sqlite(let path):
            return try body(LedgerDatabase.open(at: path, clock: clock))
        case .postgres(let location):
            return try PostgresStore.using(location, clock: clock, stageLock: stage, wait: options.wait) {
                try body($0.staging)
            }
        }
    }

    struct Output: Encodable {
        let summary: IngestRunSummary
        let rejectsFile: String?

        func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encodeIfPresent(rejectsFile, forKey: .rejectsFile)
        }

        enum Key: String, CodingKey { case rejectsFile }
    }

    static func describe(_ file: IngestFileSummary) -> String {
        if file.alreadyIngested {
            return "\(file.file): already ingested (same content), skipped"
                + (file.rejectedWhenIngested > 0
                    ? "; its \(file.rejectedWhenIngested) rejected records are in the rejects file again" : "")
        }
        if let refusal = file.fileRejection { return "\(file.file): refused, nothing staged: \(refusal)" }
        let reasons = file.rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return "\(file.file): read \(file.read), staged \(file.staged), duplicate \(file.duplicates), "
            + "rejected \(file.rejected)" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))")
            + " [\(file.format ?? "?")\(file.gzip ? ", gzip" : ""), \(file.bytes) bytes, \(file.durationMs) ms]"
            + ((file.ordersNotTied ?? 0) > 0
                ? "; \(file.ordersNotTied ?? 0) not tied to an organisation (kept, flagged for reconcile)" : "")
    }
}

struct IngestEventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Stage cost events (JSON Lines or a JSON array, optionally gzip).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var ingest: IngestOptions

    func run() throws {
        try IngestCommandRun.run(kind: .events, options: options, ingest: ingest) { store, file, rejects in
            var ingester = try EventIngester(store: store)
            let bar = ProgressBar(label: file)
            ingester.progress = bar.map { bar in { bar.update(done: $0, total: $1) } }
            defer { bar?.finish() }
            return try ingester.ingest(path: file, rejects: rejects)
        }
    }
}

struct IngestOrdersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders", abstract: "Stage Revolut order exports (API JSON, JSON Lines, report CSVs).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var ingest: IngestOptions

    @Option(name: .long, help: "JSON column mapping for a CSV layout we do not recognise (see docs/INGEST.md).")
    var columnMapping: String?

    func run() throws {
        let mapping = try columnMapping.map { path in
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                return try JSONDecoder().decode(RevolutCSVColumnMapping.self, from: data)
            } catch {
                throw ValidationError("--column-mapping \(path): \(error)")
            }
        }
        try IngestCommandRun.run(kind: .orders, options: options, ingest: ingest) { store, file, rejects in
            try OrderIngester(store: store, columnMapping: mapping).ingest(path: file, rejects: rejects)
        }
    }
}
