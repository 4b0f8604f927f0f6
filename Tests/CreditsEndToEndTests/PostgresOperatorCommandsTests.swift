import Crypto
import Foundation
import Ledger
import Testing
import TestSupport

/// Goal (issue 17): the operator's write commands that post nothing run on PostgreSQL through the same code as
/// on SQLite. `credits keys create` stores only the key's SHA-256; `credits ledger void-event` records who voided
/// a staged event, when and why, once, and refuses an unknown or charged event with SQLite's exit code and message;
/// `credits ledger move-expiry` moves a grant's expiry once, audited, and both ledgers keep one digest.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresOperatorCommandsTests {
    let directory = TemporaryDirectory("pg-operator")

    /// `credits init` of the fixture configuration on each ledger.
    func initialise(_ ledgers: [String]) async throws {
        for db in ledgers {
            let run = try await onOwnThread {
                try CreditsBinary.run(["init", "--config", "\(repositoryRoot)/fixtures/config", "--db", db],
                                      environment: ["CREDITS_NOW": "2026-11-01T06:00:00Z"])
            }
            #expect(run.exitCode == 0, "\(db): \(run.stderr)")
        }
    }

    @Test func keysCreate_onPostgres_storesOnlyTheKeysHash_andRefusesAnUnknownOrganisationAlike() async throws {
        let sqlite = directory.file("keys.sqlite")
        try await PostgresTestServer.withDatabase { url, location in
            try await initialise([sqlite, url])
            let environment = ["CREDITS_NOW": "2026-11-02T09:30:00Z"]
            let issued = try await onOwnThread {
                try CreditsBinary.run(["keys", "create", "--org", "met-police", "--label", "laptop", "--json", "--db", url],
                                      environment: environment)
            }
            #expect(issued.exitCode == 0, "\(issued.stderr)")
            let result = try #require(try issued.json()["result"] as? [String: Any])
            let key = try #require(result["key"] as? String)
            let hash = SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(result["keyID"] as? String == String(hash.prefix(16)))
            let admin = try await onOwnThread {
                try CreditsBinary.run(["keys", "create", "--admin", "--db", url], environment: environment)
            }
            #expect(admin.exitCode == 0, "\(admin.stderr)")
            let rows = try await PostgresTestServer.strings(
                "SELECT key_hash || '|' || COALESCE(organisation_id, '-') || '|' || label || '|' || created_at "
                    + "|| '|' || COALESCE(revoked_at, -1) FROM api_keys ORDER BY organisation_id NULLS FIRST",
                at: location)
            let createdAt = try Instant.parse("2026-11-02T09:30:00Z").get().millisecondsSinceEpoch
            #expect(rows.count == 2 && rows[1] == "\(hash)|met-police|laptop|\(createdAt)|-1", "\(rows)")
            #expect(rows[0].hasSuffix("|-||\(createdAt)|-1") && !rows.joined().contains(key), "only the hash is stored")

            // An unknown organisation: refused alike (65), nothing stored.
            let (onSQLite, onPostgres) = try await onOwnThread {
                (try CreditsBinary.run(["keys", "create", "--org", "nobody", "--db", sqlite], environment: environment),
                 try CreditsBinary.run(["keys", "create", "--org", "nobody", "--db", url], environment: environment))
            }
            #expect(onSQLite.exitCode == 65 && onPostgres.exitCode == 65, "\(onPostgres.stderr)")
            #expect(onPostgres.stderr == onSQLite.stderr)
            #expect(try await PostgresTestServer.strings("SELECT count(*)::text FROM api_keys", at: location) == ["2"])
        }
    }

    @Test func voidEvent_onPostgres_recordsOnce_andRefusesAlike() async throws {
        let sqlite = directory.file("void.sqlite")
        let charged = try PostgresStoreTests.built.get()
        try await PostgresTestServer.withDatabase { url, location in
            try await initialise([sqlite, url])
            for db in [sqlite, url] {
                let staged = try await onOwnThread { try CreditsBinary.run(
                    ["ingest", "events", "\(repositoryRoot)/fixtures/events/events-2026-11-01.jsonl", "--db", db,
                     "--rejects", directory.file("rejects.jsonl")], environment: ["CREDITS_NOW": "2026-11-02T06:00:00Z"]) }
                #expect([0, 3].contains(staged.exitCode), "\(db): \(staged.stderr)")
            }
            func both(_ arguments: [String], at now: String) async throws -> [CreditsBinary.Result] {
                let runs = try await onOwnThread {
                    [try CreditsBinary.run(["ledger", "void-event"] + arguments + ["--db", sqlite], environment: ["CREDITS_NOW": now]),
                     try CreditsBinary.run(["ledger", "void-event"] + arguments + ["--db", url], environment: ["CREDITS_NOW": now])]
                }
                #expect(runs[0].exitCode == runs[1].exitCode, "\(arguments): \(runs[1].stderr)")
                #expect(PostgresInitAndReadTests.withoutTiming(runs[0].stdout) == PostgresInitAndReadTests.withoutTiming(runs[1].stdout))
                #expect(runs[0].stderr == runs[1].stderr, "\(arguments)")
                return runs
            }
            let voided = try await both(
                ["--event-id", "evt_20261101_00028", "--reason", "a test record", "--by", "alice", "--json"],
                at: "2026-11-02T10:00:00Z")
            #expect(voided[1].exitCode == 0 && voided[1].stdout.contains("\"status\":\"voided\""), "\(voided[1].stdout)")
            // Again, later, another reason: the first record stands.
            let again = try await both(
                ["--event-id", "evt_20261101_00028", "--reason", "second thoughts", "--by", "bob", "--json"],
                at: "2026-11-03T10:00:00Z")
            #expect(again[1].stdout.contains("\"status\":\"already_voided\"") && again[1].stdout.contains("a test record"))
            #expect(try await both(["--event-id", "no-such-event", "--reason", "x"], at: "2026-11-03T10:00:00Z")
                .allSatisfy { $0.exitCode == 66 })
            let query = "SELECT event_id || '|' || voided_at || '|' || actor || '|' || reason FROM cost_event_voids"
            #expect(try await PostgresTestServer.strings(query, at: location)
                == PostgresIngestTests.sqliteLines(query, in: sqlite))
            #expect(try await PostgresTestServer.strings(query, at: location).count == 1)
        }
        // A charged event: refused alike (65), naming the transfer that charged it.
        let chargedCopy = directory.file("charged.sqlite")
        try FileManager.default.copyItem(atPath: charged.site.db, toPath: chargedCopy)
        try await PostgresTestServer.withDatabase { url, _ in
            try await PostgresStoreTests.copyLedger(chargedCopy, to: url)
            let chargedEvent = try #require(try await PostgresIngestTests.sqliteLines(
                "SELECT event_id FROM usage_charges ORDER BY event_id LIMIT 1", in: chargedCopy).first)
            let arguments = ["ledger", "void-event", "--event-id", chargedEvent, "--reason", "too late"]
            let (onSQLite, onPostgres) = try await onOwnThread {
                (try CreditsBinary.run(arguments + ["--db", chargedCopy],
                                       environment: ["CREDITS_NOW": "2026-12-02T10:00:00Z"]),
                 try CreditsBinary.run(arguments + ["--db", url], environment: ["CREDITS_NOW": "2026-12-02T10:00:00Z"]))
            }
            #expect(onSQLite.exitCode == 65 && onPostgres.exitCode == 65, "\(onPostgres.stderr)")
            #expect(onPostgres.stderr == onSQLite.stderr && onPostgres.stderr.contains("was already charged by transfer"))
        }
    }

    @Test func moveExpiry_onPostgres_movesOnce_refusesAlike_andKeepsSQLitesDigest() async throws {
        try await PostgresStoreTests.withBuiltLedgerOnBoth("moves.sqlite", in: directory) { sqlite, url, location in
            let grant = try #require(try await PostgresIngestTests.sqliteLines(
                "SELECT id FROM grants WHERE remaining > 0 AND expires_at IS NOT NULL ORDER BY id LIMIT 1", in: sqlite).first)
            func both(_ arguments: [String]) async throws -> [CreditsBinary.Result] {
                let environment = ["CREDITS_NOW": "2026-12-02T10:00:00Z"]
                let runs = try await onOwnThread {
                    [try CreditsBinary.run(arguments + ["--db", sqlite], environment: environment),
                     try CreditsBinary.run(arguments + ["--db", url], environment: environment)]
                }
                #expect(runs[0].exitCode == runs[1].exitCode, "\(arguments): \(runs[1].stderr)")
                #expect(PostgresInitAndReadTests.withoutTimingOrDatabase(runs[0].stdout)
                    == PostgresInitAndReadTests.withoutTimingOrDatabase(runs[1].stdout), "\(arguments)")
                #expect(runs[0].stderr == runs[1].stderr, "\(arguments)")
                return runs
            }
            let move = ["ledger", "move-expiry", "--grant", grant, "--to", "2027-06-30", "--key", "extend-1",
                        "--reason", "contract extended", "--actor", "alice", "--json"]
            let moved = try await both(move)
            #expect(moved[1].exitCode == 0 && moved[1].stdout.contains("\"status\":\"posted\""), "\(moved[1].stdout)")
            let again = try await both(move)
            #expect(again[1].exitCode == 0 && again[1].stdout.contains("\"status\":\"exists\""), "\(again[1].stdout)")
            // The same key for another move, a move before now, an unknown grant: refused alike.
            #expect(try await both(["ledger", "move-expiry", "--grant", grant, "--to", "2027-07-31", "--key", "extend-1",
                                    "--reason", "contract extended"]).allSatisfy { $0.exitCode == 65 })
            #expect(try await both(["ledger", "move-expiry", "--grant", grant, "--to", "2026-12-01", "--key", "extend-2",
                                    "--reason", "too early"]).allSatisfy { $0.exitCode == 65 })
            #expect(try await both(["ledger", "move-expiry", "--grant", "999999", "--to", "never", "--key", "extend-3",
                                    "--reason", "no grant"]).allSatisfy { $0.exitCode != 0 })
            let expiry = "SELECT CAST(expires_at AS TEXT) FROM grants WHERE id = \(grant)"
            #expect(try await PostgresTestServer.strings(expiry, at: location) == PostgresIngestTests.sqliteLines(expiry, in: sqlite))
            let verified = try await both(["ledger", "verify", "--json"])
            #expect(verified.allSatisfy { $0.exitCode == 0 }, "\(verified[1].stderr)")
        }
    }
}
