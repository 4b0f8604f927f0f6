import Foundation
import Testing
import TestSupport

/// Goal: `credits reconcile` and `credits apply` killed with SIGKILL at each of their named crash
/// points (before and after their commit), then rerun, leave the same ledger (digest) as a run
/// that was never interrupted; so does `credits reconcile --apply` (both stages in one), which also
/// leaves the same ledger as the two stages.
@Suite struct ApplyCrashTests {
    let config = "\(repositoryRoot)/fixtures/config"
    static let crashPoints = ["reconcile.beforeCommit", "reconcile.afterCommit", "apply.beforeCommit", "apply.afterCommit"]

    /// `oneStage`: `reconcile --apply` instead of `reconcile` then `apply`.
    func digestAfterPipeline(crashAt: String?, oneStage: Bool = false) throws -> String {
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
        let stages = oneStage ? [["reconcile", "--as-of", "2026-12-01", "--apply"]]
            : [["reconcile", "--as-of", "2026-12-01"], ["apply"]]
        for arguments in stages {
            if let crashAt, oneStage || crashAt.hasPrefix("\(arguments[0]).") {
                let crashed = try credits(arguments, crash: true)
                #expect(crashed.exitCode != 0 && crashed.exitCode != 3, "the crash point \(crashAt) must kill the process")
            }
            let run = try credits(arguments + ["--json"])
            #expect(run.exitCode == 0 || run.exitCode == 3, "\(arguments) after \(crashAt ?? "no crash"): \(run.stderr)")
        }
        if oneStage {
            let rerun = try credits(["reconcile", "--as-of", "2026-12-01", "--apply", "--json"])
            #expect((try rerun.json()["result"] as? [String: Any])?["applied"] as? Bool == false, "\(rerun.stdout)")
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

    @Test func killDuringReconcileWithApply_thenRerun_givesTheLedgerOfTheTwoStages() throws {
        let clean = try digestAfterPipeline(crashAt: nil)
        #expect(try digestAfterPipeline(crashAt: nil, oneStage: true) == clean)
        // The points reconcile --apply passes: its posting done, its plan stored, its commit.
        for crashPoint in ["apply.beforeCommit", "reconcile.beforeCommit", "reconcile.afterCommit"] {
            #expect(try digestAfterPipeline(crashAt: crashPoint, oneStage: true) == clean, "killed at \(crashPoint)")
        }
    }

    @Test func reconcileWithApply_refusesReport() throws {
        let directory = TemporaryDirectory("apply-report")
        let run = try CreditsBinary.run(["reconcile", "--apply", "--report", directory.path, "--db", directory.file("l.sqlite")])
        #expect(run.exitCode == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--report"))
    }
}
