import Foundation
import Testing
import TestSupport

/// Goal: `credits reconcile` and `credits apply` killed with SIGKILL at each of their named crash
/// points (before and after their commit), then rerun, leave the same ledger (digest) as a run
/// that was never interrupted.
@Suite struct ApplyCrashTests {
    let config = "\(repositoryRoot)/fixtures/config"
    static let crashPoints = ["reconcile.beforeCommit", "reconcile.afterCommit", "apply.beforeCommit", "apply.afterCommit"]

    func digestAfterPipeline(crashAt: String?) throws -> String {
        let directory = TemporaryDirectory("apply-crash")
        let db = directory.file("ledger.sqlite")
        let now = ["CREDITS_NOW": "2026-12-02T06:00:00Z"]
        func credits(_ arguments: [String], crash: Bool = false) throws -> CreditsBinary.Result {
            let environment = crash ? now.merging(["CREDITS_CRASH_AT": crashAt ?? ""]) { $1 } : now
            return try CreditsBinary.run(arguments + ["--db", db], environment: environment)
        }
        #expect(try credits(["init", "--config", config]).exitCode == 0)
        let ingest = try credits(["ingest", "events", "\(repositoryRoot)/fixtures/events/events-2026-11-01.jsonl",
                                  "--rejects", directory.file("rejects.jsonl")])
        #expect(ingest.exitCode == 0 || ingest.exitCode == 3, "\(ingest.stderr)")
        for stage in ["reconcile", "apply"] {
            let arguments = stage == "reconcile" ? ["reconcile", "--as-of", "2026-12-01"] : ["apply"]
            if let crashAt, crashAt.hasPrefix("\(stage).") {
                let crashed = try credits(arguments, crash: true)
                #expect(crashed.exitCode != 0 && crashed.exitCode != 3, "the crash point \(crashAt) must kill the process")
            }
            let run = try credits(arguments + ["--json"])
            #expect(run.exitCode == 0 || run.exitCode == 3, "\(stage) after \(crashAt ?? "no crash"): \(run.stderr)")
        }
        let again = try credits(["apply", "--json"])
        #expect((try again.json()["result"] as? [String: Any])?["status"] as? String == "nothing_to_apply")
        let verify = try credits(["ledger", "verify", "--json"])
        #expect(verify.exitCode == 0, "\(verify.stderr)")
        return try #require((try verify.json()["result"] as? [String: Any])?["digest"] as? String)
    }

    @Test func killDuringReconcileOrApply_thenRerun_givesTheSameLedger() throws {
        let clean = try digestAfterPipeline(crashAt: nil)
        for crashPoint in Self.crashPoints {
            #expect(try digestAfterPipeline(crashAt: crashPoint) == clean, "killed at \(crashPoint)")
        }
    }
}
