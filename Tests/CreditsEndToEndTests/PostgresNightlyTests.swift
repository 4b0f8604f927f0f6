import Foundation
import Ledger
import Testing
import TestSupport

/// Goal (issue 17): the night's stages that post, `reconcile` (with its report), `reconcile --apply` and `apply`,
/// run on PostgreSQL through the same code as on SQLite (`LedgerWriting`). pipelines/nightly.sh over the bundled
/// fixture nights with `--db postgres://...` ends with SQLite's ledger digest and the same CSV reports, byte for
/// byte; a second apply while one holds the stage's advisory lock exits 75; and a reconcile or an apply killed at
/// each of its crash points, then run again, leaves the digest of a run never killed.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresNightlyTests {
    @Test func nightlyPipeline_onPostgres_endsWithSQLitesDigestAndReports() async throws {
        let onSQLite = try NightlyPipelineTests.Site()
        let onPostgres = try NightlyPipelineTests.Site()
        try await PostgresTestServer.withDatabase { url, _ in
            for night in NightlyPipelineTests.nights {
                let (sqlite, postgres) = try await onOwnThread {
                    (try onSQLite.run(night, extra: []), try onPostgres.run(night, extra: ["--db", url]))
                }
                #expect(sqlite.code == 3 && postgres.code == sqlite.code, "night \(night): \(postgres.stderr)")
            }
            let digest = try await onOwnThread { try Night.digest(of: url) }
            #expect(digest == (try await onOwnThread { try Night.digest(of: onSQLite.db) }),
                    "the same nights leave the same ledger on either store")
            let reports = try onPostgres.reportCSVs()
            let sqliteReports = try onSQLite.reportCSVs()
            #expect(!reports.isEmpty && reports == sqliteReports, "byte-identical CSV reports")
            let stages = (try onPostgres.manifest("2026-11-30")["stages"] as? [[String: Any]])?.map { $0["name"] as? String }
            #expect(stages?.contains("reconcile-apply") == true, "\(String(describing: stages))")
            // A rerun of a night changes nothing on PostgreSQL either.
            let rerun = try await onOwnThread { try onPostgres.run("2026-11-30", extra: ["--db", url]) }
            #expect(rerun.code == 3, "\(rerun.stderr)")
            #expect(try await onOwnThread { try Night.digest(of: url) } == digest)
        }
    }

    @Test func applyWhileAnotherHoldsItsLock_exits75_andPostsNothing() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            let night = try await onOwnThread { try Night(url) }
            try await onOwnThread { try night.stage(["reconcile", "--as-of", "2026-11-26"]) }
            let before = try await onOwnThread { try night.digest() }
            // Another apply, as far as the database can tell: a connection holding the stage's advisory lock.
            let (held, both, during) = try await onOwnThread {
                try PostgresStore.using(location, clock: { Instant(millisecondsSinceEpoch: 0) }, stageLock: "apply") { _ in
                    (try CreditsBinary.run(["apply", "--db", url], environment: night.environment),
                     try CreditsBinary.run(["reconcile", "--as-of", "2026-11-26", "--apply", "--db", url],
                                           environment: night.environment),
                     try night.digest())
                }
            }
            #expect(held.exitCode == 75 && held.stderr.contains("apply"), "\(held.stderr)")
            #expect(both.exitCode == 75, "reconcile --apply holds apply's lock too: \(both.stderr)")
            #expect(during == before, "nothing posted while the lock was held")
            // The holder is gone (its connection closed), and so is its lock.
            try await onOwnThread { try night.stage(["apply"]) }
            #expect(try await onOwnThread { try night.digest() } != before)
        }
    }

    @Test(arguments: [
        (["reconcile", "--apply"], "reconcile.beforeCommit"), (["reconcile", "--apply"], "reconcile.afterCommit"),
        (["apply"], "apply.beforeCommit"), (["apply"], "apply.afterCommit"),
    ])
    func killedAtACrashPoint_thenRerun_leavesTheDigestOfARunNeverKilled(stage: [String], point: String) async throws {
        let directory = TemporaryDirectory("pg-crash")
        try await PostgresTestServer.withDatabase { url, _ in
            let arguments = stage == ["apply"] ? ["apply"] : ["reconcile", "--as-of", "2026-11-26", "--apply"]
            let (crashed, clean, afterRerun) = try await onOwnThread {
                let clean = try Night(directory.file("clean.sqlite"))
                let killed = try Night(url)
                for night in [clean, killed] where stage == ["apply"] { try night.stage(["reconcile", "--as-of", "2026-11-26"]) }
                try clean.stage(arguments)
                let crashed = try CreditsBinary.run(
                    arguments + ["--db", url], environment: killed.environment.merging(["CREDITS_CRASH_AT": point]) { $1 })
                try killed.stage(arguments)
                return (crashed, try clean.digest(), try killed.digest())
            }
            #expect(crashed.exitCode != 0, "\(point) must kill the stage")
            #expect(afterRerun == clean, "\(point)")
        }
    }

    /// One ledger at the end of the first fixture night's staging: initialised, the night's events and orders
    /// ingested, nothing reconciled. Its methods throw when a stage does not end as expected (they run on a
    /// thread of their own, outside the test's expectations).
    struct Night: Sendable {
        let db: String
        let environment = ["CREDITS_NOW": "2026-11-26T23:59:59Z"]
        private let directory = TemporaryDirectory("pg-night")

        init(_ db: String) throws {
            self.db = db
            let inbox = "\(repositoryRoot)/fixtures/nightly/inbox/2026-11-26"
            let rejects = directory.file("rejects.jsonl")
            try stage(["init", "--config", "\(repositoryRoot)/fixtures/config"])
            // The night's files have records to reject (exit 3), which are not what this is about.
            try stage(["ingest", "events", "\(inbox)/events-2026-11-26.jsonl.gz", "--rejects", rejects], exitCodes: [0, 3])
            try stage(["ingest", "orders", "\(inbox)/orders-api-2026-11-26.json", "--rejects", rejects], exitCodes: [0, 3])
        }

        func stage(_ arguments: [String], exitCodes: Set<Int32> = [0]) throws {
            let run = try CreditsBinary.run(arguments + ["--db", db], environment: environment)
            guard exitCodes.contains(run.exitCode) else {
                throw StageFailed(description: "\(arguments) exited \(run.exitCode): \(run.stderr)")
            }
        }

        func digest() throws -> String {
            try Self.digest(of: db)
        }

        static func digest(of db: String) throws -> String {
            let verify = try CreditsBinary.run(["ledger", "verify", "--db", db, "--json"])
            guard verify.exitCode == 0, let digest = (try verify.json()["result"] as? [String: Any])?["digest"] as? String
            else { throw StageFailed(description: "ledger verify exited \(verify.exitCode): \(verify.stderr)") }
            return digest
        }
    }

    struct StageFailed: Error, CustomStringConvertible {
        let description: String
    }
}
