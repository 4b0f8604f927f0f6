import Foundation
import Ledger
import Testing
import TestSupport

/// Goal: a stage killed mid-file and rerun ends with exactly the same staged records as one clean
/// run (PRODUCT.md invariant 4). The kill lands at a different moment each run; any moment must do.
@Suite struct IngestCrashTests {
    let directory = TemporaryDirectory("e2e-ingest-crash")

    /// A file big enough that the kill usually lands inside the file's transaction.
    func eventsFile() -> String {
        var text = ""
        for index in 0..<20_000 {
            text += "{\"event_id\":\"evt_\(index)\",\"organisation_id\":\"nca\",\"team\":\"border\","
                + "\"investigation\":\"op-harbour\",\"operation\":\"ocr\",\"credits\":\(index % 97 + 1),"
                + "\"occurred_at\":\"2026-11-03T09:15:00Z\"}\n"
        }
        let path = directory.file("big.jsonl")
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func initialised(_ name: String) throws -> String {
        let db = directory.file(name)
        let run = try CreditsBinary.run(["init", "--config", "\(repositoryRoot)/fixtures/config", "--db", db])
        #expect(run.exitCode == 0, "\(run.stderr)")
        return db
    }

    func digest(_ db: String) throws -> (count: Int, digest: String) {
        let ledger = try LedgerDatabase.open(at: db)
        return try ledger.read { (try $0.stagedEventCount(), try $0.stagedEventsDigest()) }
    }

    @Test func ingestKilledMidFileThenRerun_sameStagedRecordsAsCleanRun() throws {
        let file = eventsFile()
        let clean = try initialised("clean.sqlite")
        #expect(try CreditsBinary.run(["ingest", "events", file, "--db", clean]).exitCode == 0)

        let crashed = try initialised("crashed.sqlite")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CreditsBinary.path)
        process.arguments = ["ingest", "events", file, "--db", crashed]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let delay = UInt32.random(in: 50_000...1_500_000)
        print("killing after \(delay) µs")
        usleep(delay)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let rerun = try CreditsBinary.run(["ingest", "events", file, "--db", crashed])
        #expect(rerun.exitCode == 0, "\(rerun.stderr)")
        let expected = try digest(clean)
        #expect(expected.count == 20_000)
        #expect(try digest(crashed) == expected)
    }

    /// Two good events, two refused (a negative charge, a broken line) and one conflict.
    func fileWithRejects() -> String {
        func event(_ id: Int, credits: Int) -> String {
            "{\"event_id\":\"evt_ok_\(id)\",\"organisation_id\":\"nca\",\"team\":\"border\","
                + "\"operation\":\"ocr\",\"credits\":\(credits),\"occurred_at\":\"2026-11-03T09:15:00Z\"}\n"
        }
        let text = event(1, credits: 2) + event(2, credits: -5) + "{\"event_id\": \n" + event(3, credits: 4)
            + event(1, credits: 3)
        let path = directory.file("with-rejects.jsonl")
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func temporaries(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
    }

    /// Goal (issue 15, D5): a kill after the file's commit but before the rejects file is renamed
    /// into place loses no rejection. The ledger keeps the rejections with the staging, so the rerun
    /// (which finds the file already ingested) writes the same rejects file, byte for byte, exits 3
    /// as the uninterrupted run did, and removes the temporary the killed run left.
    @Test func killAfterCommitBeforeRejectsRename_rerunLeavesTheSameRejectsAndExitCode() throws {
        let file = fileWithRejects()
        let cleanDirectory = directory.file("clean")
        let crashedDirectory = directory.file("crashed")
        for path in [cleanDirectory, crashedDirectory] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let clean = try initialised("clean/ledger.sqlite")
        let cleanRejects = "\(cleanDirectory)/rejects.jsonl"
        let first = try CreditsBinary.run(["ingest", "events", file, "--db", clean, "--rejects", cleanRejects])
        #expect(first.exitCode == 3, "\(first.stderr)")
        let expected = try Data(contentsOf: URL(fileURLWithPath: cleanRejects))
        #expect(String(decoding: expected, as: UTF8.self).split(separator: "\n").count == 3)

        let crashed = try initialised("crashed/ledger.sqlite")
        let crashedRejects = "\(crashedDirectory)/rejects.jsonl"
        let arguments = ["ingest", "events", file, "--db", crashed, "--rejects", crashedRejects]
        let killed = try CreditsBinary.run(arguments, environment: ["CREDITS_CRASH_AT": "ingest.afterCommit"])
        #expect(killed.exitCode != 0 && killed.exitCode != 3, "the crash point must kill the run")
        #expect(!FileManager.default.fileExists(atPath: crashedRejects), "killed before the rename")
        #expect(try temporaries(in: crashedDirectory).count == 1, "the killed run's temporary is left")

        let rerun = try CreditsBinary.run(arguments + ["--json"])
        #expect(rerun.exitCode == 3, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("already ingested"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: crashedRejects)) == expected)
        #expect(try temporaries(in: crashedDirectory).isEmpty)
        let result = try #require(try rerun.json()["result"] as? [String: Any])
        #expect(result["rejectedWhenIngested"] as? Int == 3)
        #expect(try digest(crashed) == digest(clean))

        // And a plain rerun of the uninterrupted run says the same again.
        let again = try CreditsBinary.run(["ingest", "events", file, "--db", clean, "--rejects", cleanRejects])
        #expect(again.exitCode == 3, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: cleanRejects)) == expected)
    }
}
