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
}
