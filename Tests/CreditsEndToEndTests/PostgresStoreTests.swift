import Foundation
import Ledger
import Testing
import TestSupport

/// Goal (issue 17, first slice): a ledger built by the nightly pipeline on SQLite moves to a real PostgreSQL
/// server with `credits db copy` and is the same ledger there: equal digests, `ledger verify` passes on
/// PostgreSQL with the SQLite digest, a rerun copies nothing, a copy killed mid-batch finishes on rerun
/// without doubling, tampering on PostgreSQL fails verify, and the PostgreSQL schema refuses what the
/// SQLite schema refuses. On a database without a ledger every command says so (66).
///
/// Each test has a database of its own (created with a random name, dropped after). Skipped, with a
/// message, when `$CREDITS_TEST_POSTGRES_URL` is not set (`.ci/run` sets it).
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresStoreTests {
    /// The fixture nights on SQLite, once for the suite: the ledger every test copies.
    final class Built: @unchecked Sendable {
        let site: NightlyPipelineTests.Site
        let digest: String
        let transfers: Int

        init() throws {
            site = try NightlyPipelineTests.Site()
            for night in NightlyPipelineTests.nights {
                let code = try site.run(night)
                precondition(code == 3, "fixture night \(night) exited \(code)")
            }
            let verify = try CreditsBinary.run(["ledger", "verify", "--db", site.db, "--json"])
            let result = try verify.json()["result"] as? [String: Any]
            digest = result?["digest"] as? String ?? ""
            transfers = result?["transfers"] as? Int ?? 0
        }
    }

    static let built = Result { try Built() }

    /// Copies the SQLite ledger at `path` (the fixture nights' own when nil) into the empty database at `url`
    /// with `credits db copy`, expecting it to succeed: where a test starts from the same ledger on both stores.
    static func copyLedger(_ path: String? = nil, to url: String) async throws {
        let source = try path ?? built.get().site.db
        let copied = try await onOwnThread { try CreditsBinary.run(["db", "copy", "--from", source, "--to", url]) }
        #expect(copied.exitCode == 0, "\(copied.stderr)")
    }

    /// The fixture nights' ledger twice, as a SQLite file `name` in `directory` and in a database of its own on
    /// the test server: where a test runs one command on both stores and compares.
    static func withBuiltLedgerOnBoth<T>(
        _ name: String, in directory: TemporaryDirectory,
        _ body: (_ sqlite: String, _ url: String, _ location: PostgresLocation) async throws -> T
    ) async throws -> T {
        let sqlite = directory.file(name)
        try FileManager.default.copyItem(atPath: try built.get().site.db, toPath: sqlite)
        return try await PostgresTestServer.withDatabase { url, location in
            try await copyLedger(sqlite, to: url)
            return try await body(sqlite, url, location)
        }
    }

    func copy(_ url: String, extra: [String] = [], environment: [String: String] = [:]) throws -> CreditsBinary.Result {
        let ledger = try Self.built.get()
        return try CreditsBinary.run(["db", "copy", "--from", ledger.site.db, "--to", url, "--json"] + extra,
                                     environment: environment)
    }

    func verify(_ url: String) throws -> (code: Int32, result: [String: Any], stderr: String) {
        let run = try CreditsBinary.run(["ledger", "verify", "--db", url, "--json"])
        let envelope = (try? run.json()) ?? [:]
        let result = envelope["result"] as? [String: Any]
            ?? (envelope["error"] as? [String: Any]).map { ["message": $0["message"] ?? ""] } ?? [:]
        return (run.exitCode, result, run.stderr)
    }

    @Test func nightlyLedger_copiesToPostgres_withTheSameDigest_andVerifiesThere() async throws {
        let ledger = try Self.built.get()
        #expect(ledger.digest.count == 64 && ledger.transfers > 0)
        try await PostgresTestServer.withDatabase { url, _ in
            let copied = try copy(url)
            #expect(copied.exitCode == 0, "\(copied.stderr)")
            let summary = try #require(try copied.json()["result"] as? [String: Any])
            #expect(summary["sourceDigest"] as? String == ledger.digest)
            #expect(summary["targetDigest"] as? String == ledger.digest)

            let verified = try verify(url)
            #expect(verified.code == 0, "\(verified.stderr)")
            #expect(verified.result["digest"] as? String == ledger.digest)
            #expect(verified.result["transfers"] as? Int == ledger.transfers)
            let checks = try #require(verified.result["checks"] as? [[String: Any]])
            #expect(checks.count == 19)
            #expect(checks.allSatisfy { $0["passed"] as? Bool == true }, "\(checks)")
            // The human output names the digest too.
            let human = try CreditsBinary.run(["ledger", "verify", "--db", url])
            #expect(human.exitCode == 0 && human.stdout.contains("digest \(ledger.digest)"), "\(human.stderr)")

            // A rerun copies nothing and proves the same.
            let again = try copy(url)
            #expect(again.exitCode == 0, "\(again.stderr)")
            let rerun = try #require(try again.json()["result"] as? [String: Any])
            let tables = try #require(rerun["tables"] as? [[String: Any]])
            #expect(tables.allSatisfy { $0["copied"] as? Int == 0 }, "\(tables)")
            #expect(rerun["targetDigest"] as? String == ledger.digest)
        }
    }

    /// Killed as kill -9 would, inside a batch's transaction and after another's commit, then run again:
    /// the same ledger, every row once.
    @Test(arguments: ["db-copy.beforeCommit:40", "db-copy.afterCommit:25"])
    func killedMidCopy_rerunFinishes_withoutDoubling(crashAt: String) async throws {
        let ledger = try Self.built.get()
        try await PostgresTestServer.withDatabase { url, location in
            let killed = try copy(url, extra: ["--batch-rows", "25"], environment: ["CREDITS_CRASH_AT": crashAt])
            #expect(killed.exitCode != 0, "the crash point \(crashAt) was never reached")
            let committed = try await PostgresTestServer.strings(
                "SELECT COUNT(*)::text FROM credits_copy_progress", at: location)
            #expect(committed != ["0"], "no batch was committed before the kill")

            let resumed = try copy(url, extra: ["--batch-rows", "25"])
            #expect(resumed.exitCode == 0, "\(resumed.stderr)")
            let summary = try #require(try resumed.json()["result"] as? [String: Any])
            #expect(summary["targetDigest"] as? String == ledger.digest)
            #expect((summary["tables"] as? [[String: Any]])?.contains { $0["resumed"] as? Bool == true } == true)
            // Every table holds exactly the source's rows.
            for table in ["transfers", "grant_draws", "cost_events", "usage_charges", "ingest_rejections"] {
                let source = try Self.sqliteCount(table, in: ledger.site.db)
                let target = try await PostgresTestServer.strings("SELECT COUNT(*)::text FROM \(table)", at: location)
                #expect(target == [source], "\(table)")
            }
            #expect(try verify(url).code == 0)
        }
    }

    @Test func tamperedRow_failsVerifyOnPostgres() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            #expect(try copy(url).exitCode == 0)
            // The superuser lifts the append-only trigger, changes an amount and puts the trigger back.
            try await PostgresTestServer.execute("""
                DO $$ BEGIN
                    ALTER TABLE transfers DISABLE TRIGGER transfers_are_append_only_update;
                    UPDATE transfers SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM transfers);
                    ALTER TABLE transfers ENABLE TRIGGER transfers_are_append_only_update;
                END $$
                """, at: location)
            let tampered = try verify(url)
            #expect(tampered.code == 70, "\(tampered.stderr)")
            #expect(tampered.stderr.contains("FAIL balancesDerivable"), "\(tampered.stderr)")
            #expect(tampered.stderr.contains("ledger invariants broken"))

            // A trigger left off is itself a failed check.
            try await PostgresTestServer.execute(
                "ALTER TABLE grant_draws DISABLE TRIGGER grant_draws_are_append_only_delete", at: location)
            let lifted = try verify(url)
            #expect(lifted.code == 70)
            #expect(lifted.stderr.contains("FAIL transfersAppendOnly: trigger grant_draws_are_append_only_delete is missing"),
                    "\(lifted.stderr)")
        }
    }

    /// The PostgreSQL schema refuses what the SQLite schema refuses, with the same words.
    @Test func schema_refusesWhatSQLiteRefuses() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            #expect(try copy(url).exitCode == 0)
            func refusal(_ sql: String) async -> PostgresStoreError? {
                do {
                    try await PostgresTestServer.execute(sql, at: location)
                    return nil
                } catch {
                    return error as? PostgresStoreError
                }
            }
            let update = await refusal("UPDATE transfers SET memo = 'changed' WHERE id = (SELECT MIN(id) FROM transfers)")
            #expect(update?.message.contains("transfers are append-only") == true, "\(String(describing: update))")
            #expect(update?.sqlState == "23001")
            #expect(await refusal("DELETE FROM transfers")?.message.contains("append-only") == true)
            #expect(await refusal("TRUNCATE transfers CASCADE")?.message.contains("append-only") == true)
            #expect(await refusal("DELETE FROM grant_draws")?.message.contains("grant draws are append-only") == true)
            #expect(await refusal("UPDATE usage_charges SET credits = credits + 1")?.message
                .contains("usage charges are append-only") == true)

            // One charge per cost event: a second usage run charge, and a deduction of its own for an event a
            // run charged.
            let charged = try await PostgresTestServer.strings(
                "SELECT event_id || chr(9) || transfer_id FROM usage_charges ORDER BY event_id LIMIT 1", at: location)
            let fields = try #require(charged.first).split(separator: "\t").map(String.init)
            let twice = await refusal("""
                INSERT INTO usage_charges (transfer_id, event_id, occurred_at, team, investigation, operation, credits, cost_minor)
                SELECT MAX(id), '\(fields[0])', 0, 't', NULL, 'o', 1, 0 FROM transfers WHERE kind = 'deduction'
                """)
            #expect(twice?.sqlState == "23505", "\(String(describing: twice))")
            let deduction = await refusal(Self.insertTransfer(
                key: "second-charge", kind: "deduction", costEvent: fields[0], actor: "operator:test"))
            #expect(deduction?.message.contains("already charged by a usage run") == true, "\(String(describing: deduction))")

            // Unique idempotency keys; a new transfer names its actor; one top-up per order; one allocation per period.
            let existingKey = try #require(try await PostgresTestServer.strings(
                "SELECT idempotency_key FROM transfers ORDER BY id LIMIT 1", at: location).first)
            #expect(await refusal(Self.insertTransfer(key: existingKey, kind: "adjustment", actor: "operator:test"))?
                .sqlState == "23505")
            #expect(await refusal(Self.insertTransfer(key: "no-actor", kind: "adjustment", actor: Self.unknownActor))?
                .message.contains("must name its actor") == true)
            #expect(await refusal(Self.insertTransfer(key: "bad-actor", kind: "adjustment", actor: "nobody"))?
                .sqlState == "23514")
            #expect(await refusal(Self.insertTransfer(key: "top-up-1", kind: "top_up", order: "ord-x", actor: "operator:t") + ";"
                + Self.insertTransfer(key: "top-up-2", kind: "top_up", order: "ord-x", actor: "operator:t"))?.sqlState == "23505")
            #expect(await refusal(Self.insertTransfer(key: "alloc-1", kind: "allocation", period: "2027-01", actor: "operator:t")
                + ";" + Self.insertTransfer(key: "alloc-2", kind: "allocation", period: "2027-01", actor: "operator:t"))?
                .sqlState == "23505")
            // CHECKs and foreign keys.
            #expect(await refusal(Self.insertTransfer(key: "negative", kind: "adjustment", amount: -5, actor: "operator:t"))?
                .sqlState == "23514")
            #expect(await refusal(Self.insertTransfer(key: "no-org", kind: "adjustment", organisation: "nobody",
                                                      actor: "operator:t"))?.sqlState == "23503")
            // Gap-free invoice numbers: an invoice must take its issuer's next sequence.
            #expect(await refusal("""
                INSERT INTO invoice_counters (issuer_id, last_sequence) VALUES ('gap-test', 0);
                INSERT INTO invoices (issuer_id, sequence, number, organisation_id, period, issue_date, due_date, currency,
                    tax_rate_ppm, subtotal_minor, tax_minor, total_minor, lines, details, created_at)
                SELECT 'gap-test', 2, 'INV-2', id, 'p', '2026-12-01', '2026-12-31', 'GBP', 0, 0, 0, 0, '[]', '{}', 0
                FROM organisations LIMIT 1
                """)?.message.contains("next sequence") == true)
            // And nothing of the above changed the ledger.
            #expect(try verify(url).code == 0)
        }
    }

    @Test func onADatabaseWithoutALedger_everyCommandSaysSo() async throws {
        try await PostgresTestServer.withDatabase { url, _ in
            // Every command runs on PostgreSQL; on a database that holds no ledger each says so: missing (66),
            // not a crash, and never the password. `serve` included, and through CREDITS_DB as through --db.
            let serve = try await onOwnThread { try CreditsBinary.run(["serve", "--port", "0"], environment: ["CREDITS_DB": url]) }
            #expect(serve.exitCode == 66 && serve.stderr.contains("no credits ledger here"), "\(serve.stderr)")
            #expect(!serve.stderr.contains("s3cret"), "the password leaked: \(serve.stderr)")
            // The commands that run there, on a database that holds no ledger: missing (66), not a crash.
            for arguments in [["ledger", "verify"], ["ledger", "balance"], ["ledger", "history", "--org", "x"],
                              ["report", "--period", "2026-11", "--out", TemporaryDirectory("pg-report").file("out")],
                              ["invoice", "--period", "2026-11", "--out", TemporaryDirectory("pg-invoice").file("out")],
                              ["alerts"], ["keys", "create", "--admin"], ["reconcile"], ["apply"],
                              ["ledger", "allocate", "--org", "x", "--credits", "1", "--key", "k", "--reason", "r"]] {
                let empty = try CreditsBinary.run(arguments + ["--db", url])
                #expect(empty.exitCode == 66, "\(arguments): \(empty.stderr)")
                #expect(empty.stderr.contains("no credits ledger here"), "\(arguments): \(empty.stderr)")
            }
            // And so does ingest, before it reads a record.
            let ingest = try CreditsBinary.run(
                ["ingest", "events", "\(repositoryRoot)/fixtures/events/events-2026-11-01.jsonl", "--db", url])
            #expect(ingest.exitCode == 66 && ingest.stderr.contains("no credits ledger here"), "\(ingest.stderr)")
            #expect(!ingest.stderr.contains("s3cret"), "the password leaked: \(ingest.stderr)")
        }
    }

    // MARK: Helpers

    static let unknownActor = "unknown (before audit)"

    static func insertTransfer(
        key: String, kind: String, amount: Int = 1_000_000, costEvent: String? = nil, order: String? = nil,
        period: String? = nil, organisation: String? = nil, actor: String
    ) -> String {
        func literal(_ value: String?) -> String { value.map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" } ?? "NULL" }
        let organisationID = organisation.map { "'\($0)'" } ?? "(SELECT id FROM organisations ORDER BY id LIMIT 1)"
        let debit = kind == "deduction" ? "'org:' || \(organisationID)" : "'system:issuance'"
        let credit = kind == "deduction" ? "'system:consumption'" : "'org:' || \(organisationID)"
        return """
            INSERT INTO transfers (idempotency_key, content_hash, kind, debit_account, credit_account, amount, organisation_id,
                money_minor, currency, effective_at, recorded_at, cost_event_id, revolut_order_id, plan_period, actor, balance_after)
            VALUES (\(literal(key)), repeat('0', 64), '\(kind)', \(debit), \(credit), \(amount), \(organisationID), 0, 'GBP', 0, 0,
                \(literal(costEvent)), \(literal(order)), \(literal(period)), \(literal(actor)), 0)
            """
    }

    static func sqliteCount(_ table: String, in path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, "SELECT COUNT(*) FROM \(table)"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
