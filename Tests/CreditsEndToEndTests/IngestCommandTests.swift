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
}
