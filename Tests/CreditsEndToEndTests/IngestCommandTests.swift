import Foundation
import Testing
import TestSupport

/// Goal: `credits ingest` as a scheduler runs it: exit codes 0, 3, 65, 66, a `--json` summary whose
/// counts add up, a rejects file naming file, line and reason, and reruns that change nothing.
@Suite struct IngestCommandTests {
    let directory = TemporaryDirectory("e2e-ingest")
    var db: String { directory.file("ledger.sqlite") }
    var fixtures: String { "\(repositoryRoot)/fixtures" }

    func credits(_ arguments: [String]) throws -> CreditsBinary.Result {
        try CreditsBinary.run(arguments + ["--db", db])
    }

    func result(_ run: CreditsBinary.Result) throws -> [String: Any] {
        try #require(try run.json()["result"] as? [String: Any])
    }

    @Test func ingestEvents_cleanThenRerun_stagesOnce() throws {
        #expect(try credits(["init", "--config", "\(fixtures)/config"]).exitCode == 0)
        let days = ["events-2026-11-01.jsonl", "events-2026-11-02.json", "events-2026-11-03.jsonl.gz",
                    "events-2026-11-04.json.gz"].map { "\(fixtures)/events/\($0)" }
        let first = try credits(["ingest", "events"] + days + ["--json"])
        #expect(first.exitCode == 0, "\(first.stderr)")
        let summary = try result(first)
        #expect(summary["read"] as? Int == 115 && summary["staged"] as? Int == 115)
        let again = try credits(["ingest", "events"] + days + ["--json"])
        #expect(again.exitCode == 0)
        #expect(try result(again)["filesAlreadyIngested"] as? Int == 4)
        #expect(try result(again)["staged"] as? Int == 0)
    }

    @Test func ingestEvents_rejectedRecords_exit3WithRejectsFile() throws {
        #expect(try credits(["init", "--config", "\(fixtures)/config"]).exitCode == 0)
        let rejects = directory.file("rejects.jsonl")
        let run = try credits([
            "ingest", "events", "\(fixtures)/errors/credits-negative.jsonl", "--rejects", rejects, "--json",
        ])
        #expect(run.exitCode == 3, "\(run.stderr)")
        let summary = try result(run)
        #expect(summary["read"] as? Int == 3 && summary["rejected"] as? Int == 3)
        let lines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.contains { $0.contains("\"reason\":\"creditsMustBePositive\"") && $0.contains("\"line\":2") })
    }

    @Test func ingest_refusedFileIs65_missingFileIs66() throws {
        #expect(try credits(["init", "--config", "\(fixtures)/config"]).exitCode == 0)
        let refused = try credits([
            "ingest", "events", "\(fixtures)/errors/gzip-truncated.jsonl.gz",
            "\(fixtures)/events/events-2026-11-01.jsonl",
        ])
        #expect(refused.exitCode == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("refused, nothing staged"))
        #expect(refused.stderr.contains("staged 30"), "the other file is still staged")
        let missing = try credits(["ingest", "events", directory.file("nope.jsonl")])
        #expect(missing.exitCode == 66)
        #expect(missing.stderr.contains("no such file"))
    }

    @Test func ingestOrders_everyFormat() throws {
        #expect(try credits(["init", "--config", "\(fixtures)/config"]).exitCode == 0)
        let files = ["orders-current.json", "orders-legacy.json", "orders.jsonl", "settlement_report.csv",
                     "payments_report.csv", "custom_report.csv"].map { "\(fixtures)/orders/\($0)" }
        let run = try credits(["ingest", "orders"] + files + ["--json"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let summary = try result(run)
        #expect(summary["read"] as? Int == 39)
        #expect(summary["duplicates"] as? Int == 8)
    }

    /// Goal (issue 15, D18): docs/INGEST.md gives the column mapping's format with a worked example,
    /// and that very example ingests the dashboard statement.
    @Test func ingestOrders_columnMappingFromTheDocs() throws {
        #expect(try credits(["init", "--config", "\(fixtures)/config"]).exitCode == 0)
        let doc = try String(contentsOfFile: "\(repositoryRoot)/docs/INGEST.md", encoding: .utf8)
        let section = try #require(doc.range(of: "### Column mapping"))
        let blockStart = try #require(doc.range(of: "```json\n", range: section.upperBound..<doc.endIndex))
        let blockEnd = try #require(doc.range(of: "```", range: blockStart.upperBound..<doc.endIndex))
        let mapping = directory.file("mapping.json")
        try Data(doc[blockStart.upperBound..<blockEnd.lowerBound].utf8).write(to: URL(fileURLWithPath: mapping))
        let run = try credits([
            "ingest", "orders", "\(fixtures)/orders/dashboard_statement.csv", "--column-mapping", mapping, "--json",
        ])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let summary = try result(run)
        #expect(summary["read"] as? Int == 3 && summary["staged"] as? Int == 3, "\(summary)")
        let file = try #require((summary["files"] as? [[String: Any]])?.first)
        #expect(file["format"] as? String == "mappedCSV")
    }

    /// Goal (issue 15, D18): `--db ""` is a usage error (64) that touches nothing: no lock file is
    /// left in the working directory.
    @Test func emptyDatabasePathIsAUsageErrorAndLeavesNoLock() throws {
        let workingDirectory = directory.file("cwd")
        try FileManager.default.createDirectory(atPath: workingDirectory, withIntermediateDirectories: true)
        for arguments in [["ingest", "events", "\(fixtures)/events/events-2026-11-01.jsonl"], ["reconcile"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CreditsBinary.path)
            process.arguments = arguments + ["--db", ""]
            process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 64, "\(arguments)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: workingDirectory) == [])
    }

    /// Runs `credits ingest KIND FIFO --json` while a writer process copies `source` into the FIFO.
    func ingestThroughFIFO(_ kind: String, _ source: String, fifo: String) throws -> CreditsBinary.Result {
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "cat \"$0\" > \"$1\"", source, fifo]
        try writer.run()
        // A watchdog, not a timing assertion: if the stage waits for a writer that will never come,
        // open and close the FIFO once so it reads an end of input and the test fails, not hangs.
        let watchdog = DispatchWorkItem {
            let descriptor = open(fifo, O_WRONLY | O_NONBLOCK)
            if descriptor >= 0 { close(descriptor) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
        let run = try credits(["ingest", kind, fifo, "--json"])
        watchdog.cancel()
        writer.waitUntilExit()
        return run
    }

    /// Goal (issue 15, D15): a named FIFO is read as a stream, once, while a writer process feeds it;
    /// it used to be opened twice and wait for ever for a second writer. Fed again, the same bytes are
    /// recognised as already ingested. An order export through a FIFO works too.
    @Test func ingest_fromANamedFIFO() throws {
        #expect(try credits(["init", "--config", "\(fixtures)/config"]).exitCode == 0)
        let fifo = directory.file("input.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let events = "\(fixtures)/events/events-2026-11-01.jsonl"
        let first = try ingestThroughFIFO("events", events, fifo: fifo)
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(try result(first)["staged"] as? Int == 30)
        let again = try ingestThroughFIFO("events", events, fifo: fifo)
        #expect(again.exitCode == 0, "\(again.stderr)")
        #expect(try result(again)["filesAlreadyIngested"] as? Int == 1)

        let orders = try ingestThroughFIFO("orders", "\(fixtures)/orders/orders-current.json", fifo: fifo)
        #expect(orders.exitCode == 0, "\(orders.stderr)")
        #expect(try result(orders)["staged"] as? Int == 8)
    }
}
