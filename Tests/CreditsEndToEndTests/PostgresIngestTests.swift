import Foundation
import Ledger
import Testing
import TestSupport

/// Goal (issue 17): `credits ingest events|orders --db postgres://...` stages exactly what it stages in a
/// SQLite ledger: the same exit codes, summaries, rejects files (byte for byte) and staged rows (events and
/// order views), file after file of the fixture nights and the bad-input fixtures, and a rerun is a no-op
/// that writes the same rejects again. Two runs at once: the second exits 75 and names the backend holding the stage's advisory lock.
/// A run killed before its commit leaves nothing of the file, and frees the lock.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresIngestTests {
    let directory = TemporaryDirectory("pg-ingest")
    static let environment = ["CREDITS_NOW": "2026-12-02T06:00:00Z"]

    /// An initialised SQLite ledger, and the same ledger copied into the PostgreSQL database `url`.
    func ledgers(_ url: String) async throws -> String {
        try await onOwnThread { try makeLedgers(url) }
    }

    private func makeLedgers(_ url: String) throws -> String {
        let sqlite = directory.file("ledger.sqlite")
        let initialised = try CreditsBinary.run(
            ["init", "--db", sqlite, "--config", "\(repositoryRoot)/fixtures/config"], environment: Self.environment)
        #expect(initialised.exitCode == 0, "\(initialised.stderr)")
        let copied = try CreditsBinary.run(["db", "copy", "--from", sqlite, "--to", url])
        #expect(copied.exitCode == 0, "\(copied.stderr)")
        return sqlite
    }

    /// One `credits ingest` run, on a thread of its own (a blocking wait must not hold a thread of Swift
    /// concurrency's pool, which the service tests running beside these need).
    func ingest(
        _ file: String, kind: String = "events", db: String, rejects: String, environment: [String: String] = [:]
    ) async throws -> (code: Int32, result: [String: Any], rejects: Data?, stderr: String) {
        let run = try await onOwnThread { try CreditsBinary.run(
            ["ingest", kind, file, "--db", db, "--rejects", rejects, "--json"],
            environment: Self.environment.merging(environment) { $1 }) }
        var result = (try? run.json())?["result"] as? [String: Any] ?? [:]
        result["rejectsFile"] = nil  // named by the caller
        if var files = result["files"] as? [[String: Any]] {
            for index in files.indices { files[index]["durationMs"] = nil }
            result["files"] = files
        }
        return (run.exitCode, result, FileManager.default.contents(atPath: rejects), run.stderr)
    }

    /// Ingests each file into both ledgers, in turn, expecting the same exit code, summary and rejects file;
    /// returns the exit codes. The rejects files are `s<index>.jsonl` (SQLite) and `p<index>.jsonl`.
    func ingestOnBoth(_ files: [String], kind: String, sqlite: String, postgres: String) async throws -> [Int32] {
        var codes: [Int32] = []
        for (index, file) in files.enumerated() {
            let onSQLite = try await ingest(file, kind: kind, db: sqlite, rejects: directory.file("s\(index).jsonl"))
            let onPostgres = try await ingest(file, kind: kind, db: postgres, rejects: directory.file("p\(index).jsonl"))
            #expect(onPostgres.code == onSQLite.code, "\(file): \(onPostgres.stderr)")
            #expect(NSDictionary(dictionary: onPostgres.result).isEqual(to: onSQLite.result), "\(file)")
            #expect(onPostgres.rejects == onSQLite.rejects, "\(file)")
            codes.append(onSQLite.code)
        }
        return codes
    }

    /// The fixture nights' files of `kind` (events or orders), then the bad-input fixtures of that kind.
    static func fixtureFiles(_ kind: String) -> [String] {
        func list(_ folder: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { "\(folder)/\($0)" }
        }
        let inbox = "\(repositoryRoot)/fixtures/nightly/inbox"
        let nightly = list(inbox).flatMap(list).filter { ($0 as NSString).lastPathComponent.hasPrefix(kind) }
        let bad = list("\(repositoryRoot)/fixtures/errors").filter { path in
            let name = (path as NSString).lastPathComponent
            return !name.hasSuffix(".expected") && name.hasPrefix("orders") == (kind == "orders")
        }
        return nightly + (kind == "orders" ? list("\(repositoryRoot)/fixtures/orders") : []) + bad
    }

    @Test func fixtureFiles_stageTheSameOnPostgresAsOnSQLite_andRerunsAreNoOps() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            let sqlite = try await ledgers(url)
            let files = Self.fixtureFiles("events")
            #expect(files.count > 40)
            let codes = try await ingestOnBoth(files, kind: "events", sqlite: sqlite, postgres: url)
            #expect(Set(codes) == [0, 3, 65], "clean files, files with rejections and files refused whole")

            // Everything staged is the same, field by field.
            // Attributes are kept as sent, line breaks and all: compared as hex, one row per line.
            let columns = """
                e.event_id, e.organisation_id, e.team, COALESCE(e.investigation, '-'), e.operation, e.credits,
                COALESCE(e.quantity, '-'), COALESCE(e.unit, '-'), COALESCE(e.rate, -1), e.occurred_at,
                f.name, e.source_line, e.staged_at
                """
            let sqliteRows = try await Self.sqliteLines("""
                SELECT lower(hex(e.content_sha256)), lower(hex(COALESCE(e.attributes, '-'))), \(columns)
                FROM cost_events e JOIN source_files f ON f.id = e.source_file_id ORDER BY e.event_id
                """, in: sqlite)
            let postgresRows = try await PostgresTestServer.strings("""
                SELECT concat_ws('|', encode(e.content_sha256, 'hex'),
                    encode(convert_to(COALESCE(e.attributes, '-'), 'UTF8'), 'hex'), \(columns))
                FROM cost_events e JOIN source_files f ON f.id = e.source_file_id ORDER BY e.event_id COLLATE "C"
                """, at: location)
            #expect(sqliteRows.count > 2_000)
            #expect(postgresRows == sqliteRows)
            let rejectionColumns = "reason, file, COALESCE(line, 0), COALESCE(\"column\", 0), COALESCE(field, '-'), detail"
            #expect(try await PostgresTestServer.strings(
                "SELECT concat_ws('|', \(rejectionColumns)) FROM ingest_rejections ORDER BY id", at: location)
                == (try await Self.sqliteLines("SELECT \(rejectionColumns) FROM ingest_rejections ORDER BY id", in: sqlite)))

            // A rerun of every file: already ingested, the same rejects again, the same exit codes.
            for (index, file) in files.enumerated() {
                let again = try await ingest(file, db: url, rejects: directory.file("again\(index).jsonl"))
                #expect(again.code == codes[index], "\(file): \(again.stderr)")
                #expect(again.rejects == FileManager.default.contents(atPath: directory.file("s\(index).jsonl")), "\(file)")
            }
            #expect(try await PostgresTestServer.strings("SELECT count(*)::text FROM cost_events", at: location)
                == (try await Self.sqliteLines("SELECT count(*) FROM cost_events", in: sqlite)))
        }
    }

    @Test func orderExports_stageTheSameOnPostgresAsOnSQLite_andRerunsAreNoOps() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            let sqlite = try await ledgers(url)
            let files = Self.fixtureFiles("orders")
            #expect(files.count > 15)
            let codes = try await ingestOnBoth(files, kind: "orders", sqlite: sqlite, postgres: url)
            #expect(Set(codes).isSuperset(of: [0, 3]), "\(codes)")
            for (index, file) in files.enumerated() {
                let again = try await ingest(file, kind: "orders", db: url, rejects: directory.file("again\(index).jsonl"))
                #expect(again.code == codes[index], "\(file): \(again.stderr)")
                #expect(again.rejects == FileManager.default.contents(atPath: directory.file("s\(index).jsonl")), "\(file)")
            }

            // The same views, in the same order, field by field. (The ids themselves may skip on PostgreSQL:
            // a sequence does not give back the numbers of views skipped as repeats.)
            let columns = """
                observation_hash, order_id, order_type, state, amount_minor, currency, COALESCE(merchant_reference, '-'),
                COALESCE(organisation_id, '-'), COALESCE(package_id, '-'), COALESCE(related_order_id, '-'),
                COALESCE(created_at, -1), COALESCE(updated_at, -1), source, source_file, source_line, observed_at
                """
            let sqliteRows = try await Self.sqliteLines("SELECT \(columns) FROM revolut_order_observations ORDER BY id", in: sqlite)
            #expect(sqliteRows.count > 30)
            #expect(try await PostgresTestServer.strings(
                "SELECT concat_ws('|', \(columns)) FROM revolut_order_observations ORDER BY id", at: location) == sqliteRows)
        }
    }

    @Test func twoRunsAtOnce_theSecondExits75_namingTheBackendThatHoldsTheLock() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            _ = try await ledgers(url)
            // The first run reads a named pipe, so it holds the stage's lock until the test writes the events.
            let fifo = directory.file("events.fifo")
            #expect(mkfifo(fifo, 0o600) == 0)
            let first = Process()
            first.executableURL = URL(fileURLWithPath: CreditsBinary.path)
            first.arguments = ["ingest", "events", fifo, "--db", url, "--rejects", directory.file("first.jsonl")]
            first.environment = ProcessInfo.processInfo.environment.merging(Self.environment) { $1 }
            first.standardError = FileHandle.nullDevice
            try first.run()

            // Once the first run holds its lock (it then waits on the pipe), a second run is refused.
            var held = false
            for _ in 0..<200 where !held {
                held = try await PostgresTestServer.strings(
                    "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", at: location) == ["1"]
                if !held { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(held, "the first run took its lock")
            let second = try await onOwnThread {
                try CreditsBinary.run(["ingest", "events", fifo, "--db", url], environment: Self.environment)
            }
            #expect(second.exitCode == 75, "\(second.stderr)")
            #expect(second.stderr.contains("another `credits ingest events` run holds the advisory lock"), "\(second.stderr)")
            #expect(second.stderr.contains("backend pid") && second.stderr.contains("(credits"), "\(second.stderr)")
            #expect(!second.stderr.contains("s3cret"), "the password leaked: \(second.stderr)")

            let writer = try #require(FileHandle(forWritingAtPath: fifo))
            let lines = (1...3).map { index in
                "{\"event_id\":\"lock-\(index)\",\"organisation_id\":\"nca\",\"team\":\"border\",\"investigation\":\"op-harbour\","
                    + "\"operation\":\"ocr\",\"credits\":2,\"occurred_at\":\"2026-12-01T10:00:00Z\"}\n"
            }
            writer.write(Data(lines.joined().utf8))
            try writer.close()
            try await onOwnThread { first.waitUntilExit() }
            #expect(first.terminationStatus == 0)

            // The lock was the first run's: free again now, with --wait or without.
            let third = try await ingest(
                "\(repositoryRoot)/fixtures/events/events-2026-11-01.jsonl", db: url, rejects: directory.file("third.jsonl"))
            #expect(third.code == 0, "\(third.stderr)")
        }
    }

    @Test func killedBeforeItsCommit_leavesNothingOfTheFile_andTheRerunStagesItWhole() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            let sqlite = try await ledgers(url)
            let file = "\(repositoryRoot)/fixtures/nightly/inbox/2026-11-26/events-2026-11-26.jsonl.gz"
            let killed = try await ingest(
                file, db: url, rejects: directory.file("killed.jsonl"), environment: ["CREDITS_CRASH_AT": "ingest.beforeCommit"])
            #expect(killed.code != 0 && killed.code != 3, "the crash point must kill the run")
            for table in ["cost_events", "source_files", "ingest_rejections", "ingested_files"] {
                #expect(try await PostgresTestServer.strings("SELECT count(*)::text FROM \(table)", at: location) == ["0"], "\(table)")
            }
            // The killed run's connection ended: its lock is free, and the rerun stages the file as SQLite does.
            let rerun = try await ingest(file, db: url, rejects: directory.file("rerun.jsonl"))
            let clean = try await ingest(file, db: sqlite, rejects: directory.file("clean.jsonl"))
            #expect(rerun.code == clean.code, "\(rerun.stderr)")
            #expect(NSDictionary(dictionary: rerun.result).isEqual(to: clean.result))
            #expect(rerun.rejects == clean.rejects)
        }
    }

    /// Each row `sql` returns from the SQLite file, its columns joined by `|` (the sqlite3 shell's list mode).
    static func sqliteLines(_ sql: String, in path: String) async throws -> [String] {
        try await onOwnThread { try readSQLite(sql, in: path) }
    }

    private static func readSQLite(_ sql: String, in path: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-list", path, sql]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}
