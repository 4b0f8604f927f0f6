import Foundation
import Ledger
import Testing
import TestSupport

/// Goal (issue 17): `credits init` and the read commands (`ledger balance`, `ledger history`) run on
/// PostgreSQL through the same code as on SQLite. `init` creates the schema in an empty database and
/// leaves the ledger digest SQLite's `init` leaves (same configuration, same `--now`), a rerun changes
/// nothing, and a changed configuration is loaded and audited alike. On a copy of the fixture nights'
/// ledger, every read command prints byte for byte what it prints on SQLite, errors and exit codes
/// included, and `credits report` writes the same files, byte for byte.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresInitAndReadTests {
    let directory = TemporaryDirectory("pg-init-read")

    struct Initialised {
        let code: Int32
        let created: Bool?
        let changed: Bool?
        let digest: String?
        let stderr: String
    }

    func initialise(_ db: String, config: String, now: String) async throws -> Initialised {
        let run = try await onOwnThread {
            try CreditsBinary.run(["init", "--config", config, "--db", db, "--json"], environment: ["CREDITS_NOW": now])
        }
        let result = (try? run.json())?["result"] as? [String: Any]
        let configuration = result?["configuration"] as? [String: Any]
        return Initialised(
            code: run.exitCode, created: result?["created"] as? Bool, changed: configuration?["changed"] as? Bool,
            digest: result?["digest"] as? String, stderr: run.stderr)
    }

    @Test func init_onPostgres_leavesSQLitesDigest_rerunsChangeNothing_andChangesAreAuditedAlike() async throws {
        let config = directory.file("config")
        try FileManager.default.copyItem(atPath: "\(repositoryRoot)/fixtures/config", toPath: config)
        let sqlite = directory.file("ledger.sqlite")
        try await PostgresTestServer.withDatabase { url, location in
            let first = try await initialise(sqlite, config: config, now: "2026-11-01T06:00:00Z")
            let onPostgres = try await initialise(url, config: config, now: "2026-11-01T06:00:00Z")
            #expect(first.code == 0 && onPostgres.code == 0, "\(onPostgres.stderr)")
            #expect(onPostgres.created == true && onPostgres.changed == true)
            #expect(onPostgres.digest == first.digest && first.digest?.count == 64)
            #expect(!onPostgres.stderr.contains("s3cret"), "the password leaked: \(onPostgres.stderr)")

            let again = try await initialise(url, config: config, now: "2026-11-02T06:00:00Z")
            #expect(again.code == 0 && again.created == false && again.changed == false, "\(again.stderr)")
            #expect(again.digest == first.digest)

            // A reservation and a team changed: loaded, and the replaced reservation audited, alike.
            let organisations = "\(config)/organisations.yaml"
            let yaml = try String(contentsOfFile: organisations, encoding: .utf8)
            try yaml.replacingOccurrences(of: "{id: p1-safeguarding, credits: 5000, max_priority: P1}",
                                          with: "{id: p1-safeguarding, credits: 6500, max_priority: P1}")
                .replacingOccurrences(of: "    - {id: fraud, name: Economic Crime}",
                                      with: "    - {id: fraud, name: Economic Crime Command}")
                .write(toFile: organisations, atomically: true, encoding: .utf8)
            let changedOnSQLite = try await initialise(sqlite, config: config, now: "2026-11-03T06:00:00Z")
            let changedOnPostgres = try await initialise(url, config: config, now: "2026-11-03T06:00:00Z")
            #expect(changedOnSQLite.changed == true && changedOnPostgres.changed == true, "\(changedOnPostgres.stderr)")
            #expect(changedOnPostgres.digest == changedOnSQLite.digest)
            // The digest covers the money; the configuration and its audit trail are compared row by row.
            for query in [
                "SELECT organisation_id || '|' || changed_at || '|' || actor || '|' || subject || '|' "
                    + "|| COALESCE(reservation_id, '') || '|' || COALESCE(old_value, '') || '|' || COALESCE(new_value, '') "
                    + "FROM configuration_changes",
                "SELECT organisation_id || '|' || id || '|' || name FROM teams",
                "SELECT organisation_id || '|' || id || '|' || credits || '|' || max_priority FROM reservations",
                "SELECT id || '|' || settings FROM organisations",
                "SELECT key || '|' || value FROM meta",
            ] {
                let onSQLite = try await PostgresIngestTests.sqliteLines(query, in: sqlite).sorted()
                let onPostgres = try await PostgresTestServer.strings(query, at: location).sorted()
                #expect(onPostgres == onSQLite && !onSQLite.isEmpty, "\(query)")
            }
            let audited = try await PostgresTestServer.strings(
                "SELECT reservation_id || ' ' || old_value || ' -> ' || new_value FROM configuration_changes", at: location)
            #expect(audited == [#"p1-safeguarding {"credits":"5000","max_priority":1} -> {"credits":"6500","max_priority":1}"#],
                    "\(audited)")

            let verified = try await onOwnThread { try CreditsBinary.run(["ledger", "verify", "--db", url, "--json"]) }
            #expect(verified.exitCode == 0, "\(verified.stderr)")
            #expect((try verified.json()["result"] as? [String: Any])?["digest"] as? String == changedOnSQLite.digest)
            let balance = try await onOwnThread {
                try CreditsBinary.run(["ledger", "balance", "--org", "met-police", "--as-of", "2026-11-02", "--db", url, "--json"])
            }
            let reserved = ((try balance.json()["result"] as? [[String: Any]])?.first)?["reserved"] as? String
            #expect(reserved == "5000", "as of before the change, the reservation was 5000: \(balance.stdout)")
        }
    }

    /// The read commands a finance team runs, with the answers a ledger of five nights gives.
    static let readCommands: [[String]] = [
        ["ledger", "balance"],
        ["ledger", "balance", "--json"],
        ["ledger", "balance", "--org", "nca", "--json"],
        ["ledger", "balance", "--as-of", "2026-11-27", "--json"],
        ["ledger", "balance", "--as-of", "2026-11-28T12:00:00Z"],
        ["ledger", "balance", "--by", "team", "--json"],
        ["ledger", "balance", "--by", "investigation", "--as-of", "2026-11-28"],
        ["ledger", "balance", "--org", "nobody"],
        ["ledger", "history", "--org", "met-police", "--json"],
        ["ledger", "history", "--org", "nca", "--kind", "deduction", "--kind", "top_up", "--from", "2026-11-27",
         "--to", "2026-11-29T12:00:00Z", "--limit", "9"],
        ["ledger", "history", "--org", "europol-ec3", "--kind", "allocation", "--json"],
        ["ledger", "history", "--org", "nobody", "--json"],
        ["ledger", "grants", "--org", "nca"],
        ["ledger", "grants", "--org", "met-police", "--json"],
        ["ledger", "draws", "--grant", "1", "--json"],
        ["ledger", "draws", "--transfer", "14"],
        ["ledger", "draws", "--transfer", "999999"],
    ]

    @Test func readCommands_onPostgres_printWhatTheyPrintOnSQLite() async throws {
        let ledger = try PostgresStoreTests.built.get()
        try await PostgresTestServer.withDatabase { url, _ in
            try await PostgresStoreTests.copyLedger(to: url)
            var codes: [Int32] = []
            for arguments in Self.readCommands {
                let environment = ["CREDITS_NOW": "2026-12-01T08:00:00Z"]
                let (onSQLite, onPostgres) = try await onOwnThread {
                    (try CreditsBinary.run(arguments + ["--db", ledger.site.db], environment: environment),
                     try CreditsBinary.run(arguments + ["--db", url], environment: environment))
                }
                #expect(onPostgres.exitCode == onSQLite.exitCode, "\(arguments): \(onPostgres.stderr)")
                #expect(Self.withoutTiming(onPostgres.stdout) == Self.withoutTiming(onSQLite.stdout), "\(arguments)")
                #expect(onPostgres.stderr == onSQLite.stderr, "\(arguments)")
                codes.append(onSQLite.exitCode)
            }
            // The answers are real ones: the unknown organisation and transfer are refused, the rest answers.
            #expect(codes == Self.readCommands.map { $0.contains("nobody") ? 65 : $0.contains("999999") ? 66 : 0 },
                    "\(codes)")

            // An audit statement: the same summary, digest and files, byte for byte.
            let audit = try await writeOnBoth(
                ["ledger", "audit", "--org", "met-police", "--from", "2026-11-26", "--to", "2026-11-30"],
                name: "audit", sqlite: ledger.site.db, postgres: url)
            #expect(audit.summaries[0] == audit.summaries[1])
            #expect(audit.summaries[0].contains("\"movements\":"), "\(audit.summaries[0])")
            #expect(audit.files[0].count >= 2 && audit.files[0] == audit.files[1], "\(audit.files.map { $0.keys.sorted() })")
        }
    }

    @Test func report_onPostgres_writesSQLitesFiles_byteForByte() async throws {
        let ledger = try PostgresStoreTests.built.get()
        try await PostgresTestServer.withDatabase { url, _ in
            try await PostgresStoreTests.copyLedger(to: url)
            for extra in [["--detail"], ["--org", "met-police", "--org", "nca"]] {
                let report = try await writeOnBoth(
                    ["report", "--period", "2026-11"] + extra, name: "report-\(extra.count)", sqlite: ledger.site.db,
                    postgres: url)
                #expect(report.summaries[0] == report.summaries[1], "\(extra)")
                #expect(report.files[0].count >= 8 && report.files[0] == report.files[1],
                        "\(extra): \(report.files.map { $0.keys.sorted() })")
            }
        }
    }

    @Test func invoice_onPostgres_takesTheSameNumbers_writesTheSameFiles_andRerunsTakeNone() async throws {
        try await PostgresStoreTests.withBuiltLedgerOnBoth("invoiced.sqlite", in: directory) { sqlite, url, location in
            // Killed after its commit, before any file: the rerun writes the files and takes no number.
            let killed = try await onOwnThread { try CreditsBinary.run(
                ["invoice", "--period", "2026-11", "--out", directory.file("killed"), "--db", url],
                environment: ["CREDITS_NOW": "2026-12-01T08:00:00Z", "CREDITS_CRASH_AT": "invoice.afterCommit"]) }
            #expect(killed.exitCode != 0, "\(killed.stderr)")
            let invoiced = try await writeOnBoth(["invoice", "--period", "2026-11"], name: "invoice", sqlite: sqlite, postgres: url)
            #expect(invoiced.files[0].count >= 6 && invoiced.files[0] == invoiced.files[1],
                    "\(invoiced.files.map { $0.keys.sorted() })")
            // The same invoices, numbers and all; on PostgreSQL all of them were issued by the killed run.
            let numbers = #/"number":"(CR-\d+)"/#
            #expect(invoiced.summaries.map { $0.matches(of: numbers).map(\.output.1) }.allSatisfy { $0 == ["CR-000001",
                "CR-000002", "CR-000003", "CR-000004"] }, "\(invoiced.summaries)")
            #expect(invoiced.summaries[1].contains("\"newlyIssued\":false") && !invoiced.summaries[1].contains("\"newlyIssued\":true"))
            let query = "SELECT number || '|' || organisation_id || '|' || period || '|' || total_minor || '|' || lines "
                + "|| '|' || details || '|' || created_at FROM invoices"
            #expect(try await PostgresTestServer.strings(query, at: location).sorted()
                == PostgresIngestTests.sqliteLines(query, in: sqlite).sorted())
            let counters = try await PostgresTestServer.strings(
                "SELECT issuer_id || ' ' || last_sequence FROM invoice_counters", at: location)
            #expect(counters == ["credits-ltd 4"] || counters.count == 1 && counters[0].hasSuffix(" 4"), "\(counters)")
            // Again: nothing new on either store.
            let again = try await writeOnBoth(["invoice", "--period", "2026-11"], name: "again", sqlite: sqlite, postgres: url)
            #expect(again.summaries[0] == again.summaries[1] && !again.summaries[1].contains("\"newlyIssued\":true"))
            #expect(again.files[1] == invoiced.files[1])
        }
    }

    /// Runs a command that writes files (`--out`) on both ledgers: each run's `--json` summary (timing and
    /// output folder left out) and the files it wrote, by name; SQLite's first.
    func writeOnBoth(
        _ arguments: [String], name: String, sqlite: String, postgres: String
    ) async throws -> (summaries: [String], files: [[String: Data]]) {
        var summaries: [String] = []
        var files: [[String: Data]] = []
        for (store, db) in [("sqlite", sqlite), ("postgres", postgres)] {
            let out = directory.file("\(name)-\(store)")
            let run = try await onOwnThread { try CreditsBinary.run(
                arguments + ["--out", out, "--db", db, "--json"], environment: ["CREDITS_NOW": "2026-12-01T08:00:00Z"]) }
            #expect(run.exitCode == 0, "\(store) \(arguments): \(run.stderr)")
            summaries.append(Self.withoutTiming(run.stdout).replacingOccurrences(of: out, with: "OUT"))
            files.append(Dictionary(uniqueKeysWithValues: try FileManager.default.contentsOfDirectory(atPath: out).map {
                ($0, try Data(contentsOf: URL(fileURLWithPath: "\(out)/\($0)")))
            }))
        }
        return (summaries, files)
    }

    static func withoutTiming(_ output: String) -> String {
        output.replacingOccurrences(of: #""durationMs":[0-9]+"#, with: "", options: .regularExpression)
    }

    /// `withoutTiming`, and without the `database` the output names (a file on one store, a URL on the other).
    static func withoutTimingOrDatabase(_ output: String) -> String {
        withoutTiming(output).replacingOccurrences(of: #""database":"[^"]*""#, with: "", options: .regularExpression)
    }
}
