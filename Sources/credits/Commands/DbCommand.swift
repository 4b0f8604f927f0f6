import ArgumentParser
import Foundation
import Ledger

/// `credits db ...`: moving a ledger between stores.
struct DbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Move a ledger between stores (SQLite to PostgreSQL).",
        subcommands: [DbCopyCommand.self])
}

/// `credits db copy --from FILE --to URL`: a whole SQLite ledger into PostgreSQL, resumable, proved by digests.
struct DbCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a whole SQLite ledger into a PostgreSQL database and prove it by equal digests.",
        discussion: """
            Table by table in key order, in batches; each batch commits with the table's progress, so a copy \
            that was killed or lost its connection is finished by running the same command again (nothing is \
            copied twice; after a complete copy a rerun copies nothing). Stop the stages and `credits serve` \
            first: the source must not change while it is copied. Prints both ledger digests; exits 70 if they \
            differ. The target database must exist (README, PostgreSQL) and be empty or hold an unfinished copy.
            """)

    @Option(name: .long, help: "The SQLite ledger to copy.")
    var from: String

    @Option(name: .long, help: "The PostgreSQL database: postgres://user:password@host:port/database?sslmode=...")
    var to: String

    @Option(name: .long, help: "Rows per batch (one PostgreSQL transaction each).")
    var batchRows: Int = 2_000

    @Flag(name: .long, help: "Print a machine-readable JSON summary on stdout.")
    var json = false

    func validate() throws {
        guard case .sqlite = try Self.parse(from, option: "--from") else {
            throw ValidationError("--from \(from): give the SQLite ledger's file path")
        }
        guard case .postgres = try Self.parse(to, option: "--to") else {
            throw ValidationError("--to \(to): give a postgres:// URL")
        }
        guard (1...100_000).contains(batchRows) else { throw ValidationError("--batch-rows must be 1 to 100000") }
    }

    private static func parse(_ text: String, option: String) throws -> StoreLocation {
        do { return try StoreLocation.parse(text) } catch let error as StoreLocationError {
            throw ValidationError(error.message.replacingOccurrences(of: "--db ", with: "\(option) "))
        }
    }

    func run() async throws {
        guard case .postgres(let location) = try StoreLocation.parse(to) else { return }
        try await Runner.runAsync("db copy", json: json, humanToStdout: true) {
            let source = try LedgerDatabase.open(at: from)
            let target = try await PostgresLedger.create(at: location)
            let report: LedgerCopy.Report
            do {
                let showProgress = standardErrorIsTerminal
                report = try await LedgerCopy.copy(from: source, to: target, batchRows: batchRows) { line in
                    if showProgress { printError(line) }
                }
                await target.close()
            } catch {
                await target.close()
                throw error
            }
            var lines = report.tables.filter { $0.total > 0 || $0.copied > 0 }.map {
                "\($0.table): \($0.copied) rows copied\($0.resumed ? " (resumed)" : ""), \($0.total) in all"
            }
            lines.append("copied \(report.copied) rows from \(from) to \(location.redacted)")
            lines.append("source digest \(report.sourceDigest)")
            lines.append("target digest \(report.targetDigest)")
            guard report.digestsEqual else { throw CopyDigestsDiffer(lines: lines) }
            lines.append("digests equal")
            return StageOutcome(summary: report, human: lines)
        }
    }
}

/// The copy finished but the two stores do not hold the same ledger (the source changed during the copy?).
struct CopyDigestsDiffer: ClassifiedError {
    let lines: [String]
    var failureClass: FailureClass { .internal }
    var description: String {
        "the PostgreSQL ledger's digest differs from the SQLite ledger's (did the source change during the copy?)\n"
            + lines.joined(separator: "\n")
    }
}
