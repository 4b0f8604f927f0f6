import Foundation
import Testing
import TestSupport

/// Goal: `credits apply` killed with SIGKILL before and after its commit, then rerun, leaves the
/// same ledger (digest) as a run that was never interrupted.
@Suite struct ApplyCrashTests {
    let config = "\(repositoryRoot)/fixtures/config"

    func digestAfterPipeline(crashAt: String?) throws -> String {
        let directory = TemporaryDirectory("apply-crash")
        let db = directory.file("ledger.sqlite")
        let now = ["CREDITS_NOW": "2026-12-02T06:00:00Z"]
        #expect(try CreditsBinary.run(["init", "--config", config, "--db", db], environment: now).exitCode == 0)
        #expect(try CreditsBinary.run(["reconcile", "--as-of", "2026-12-01", "--db", db], environment: now).exitCode == 0)
        if let crashAt {
            let crashed = try CreditsBinary.run(
                ["apply", "--db", db], environment: now.merging(["CREDITS_CRASH_AT": crashAt]) { $1 })
            #expect(crashed.exitCode != 0, "the crash point \(crashAt) must kill the process")
        }
        let apply = try CreditsBinary.run(["apply", "--db", db, "--json"], environment: now)
        #expect(apply.exitCode == 0, "\(apply.stderr)")
        let verify = try CreditsBinary.run(["ledger", "verify", "--db", db, "--json"], environment: now)
        #expect(verify.exitCode == 0, "\(verify.stderr)")
        return try #require((try verify.json()["result"] as? [String: Any])?["digest"] as? String)
    }

    @Test func killDuringApply_thenRerun_givesTheSameLedger() throws {
        let clean = try digestAfterPipeline(crashAt: nil)
        #expect(try digestAfterPipeline(crashAt: "apply.beforeCommit") == clean)
        #expect(try digestAfterPipeline(crashAt: "apply.afterCommit") == clean)
    }
}
