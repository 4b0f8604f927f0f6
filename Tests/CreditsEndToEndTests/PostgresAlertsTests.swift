import Foundation
import Ledger
import Testing
import TestSupport

/// Goal (issue 17): `credits alerts` runs on PostgreSQL through the same evaluation and the same SQL as on
/// SQLite. On a SQLite and a PostgreSQL copy of the fixture nights' ledger, with met-police's webhook on a
/// loopback receiver and the same `--now` on both: with met-police's thresholds lowered, the dry run answers
/// alike and changes and sends nothing; the run clears its two fired alerts and sends the same signed
/// `credits.alert.resolved` bodies; the rerun at that instant answers as the run did and sends nothing again;
/// an hour later, with the fixture's thresholds back, both fire again and are sent once. After each step
/// both stores hold the same alert states, fired alerts and outbox rows. While another run holds the
/// `alerts` lock on PostgreSQL, a run exits 75.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresAlertsTests {
    let directory = TemporaryDirectory("pg-alerts")
    static let now = "2026-12-01T08:00:00Z"

    /// The alert tables as lines, in a stable order, the same SQL on either store. Rows compare by content, not
    /// by id: ids are each store's own (a PostgreSQL sequence does not give back the numbers a rolled-back dry
    /// run took, so they may skip), and so are the dedupe keys made of them.
    static let alertTables = [
        "SELECT organisation_id || '|' || rule || '|' || subject || '|' || state || '|' || last_value || '|' "
            + "|| changed_at || '|' || evaluated_at FROM alert_states",
        "SELECT organisation_id || '|' || rule || '|' || subject || '|' || fired_at || '|' || as_of || '|' || payload "
            + "FROM alerts_fired",
        "SELECT destination || '|' || status || '|' || attempts || '|' || next_attempt_at || '|' "
            + "|| COALESCE(last_error, '') || '|' || COALESCE(delivered_at, -1) || '|' "
            + "|| COALESCE(signature_timestamp, -1) || '|' || payload FROM alert_outbox",
    ]

    func alertTables(sqlite: String, postgres location: PostgresLocation) async throws -> (sqlite: [[String]], postgres: [[String]]) {
        var onSQLite: [[String]] = []
        var onPostgres: [[String]] = []
        for query in Self.alertTables {
            onSQLite.append(try await PostgresIngestTests.sqliteLines(query, in: sqlite).map(Self.withoutTimes).sorted())
            onPostgres.append(try await PostgresTestServer.strings(query, at: location).map(Self.withoutTimes).sorted())
        }
        return (onSQLite, onPostgres)
    }

    /// `text` without the milliseconds a refused connection took, which the error of a delivery to the
    /// fixture's dead webhook (port 9) tells ("Failed to connect ... after 4 ms").
    static func withoutTimes(_ text: String) -> String {
        text.replacingOccurrences(of: #"after [0-9]+ ms"#, with: "after N ms", options: .regularExpression)
    }

    /// The fixture configuration with met-police's webhook pointed at `url`; with `relaxed`, its low-balance and
    /// runway thresholds lowered below what it has (both fired in the fixture nights, so both clear).
    func configuration(webhook url: String, relaxed: Bool) throws -> String {
        let config = directory.file(relaxed ? "config-relaxed" : "config")
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        let fixtures = "\(repositoryRoot)/fixtures/config"
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures) {
            var text = try String(contentsOfFile: "\(fixtures)/\(name)", encoding: .utf8)
                .replacingOccurrences(of: "http://127.0.0.1:9/alerts/met-police", with: url)
            if relaxed {
                text = text.replacingOccurrences(
                    of: "low_balance_credits: 10000\n    low_balance_percent: 20\n    runway_days: 10\n",
                    with: "low_balance_credits: 1\n    runway_days: 1\n")
            }
            try text.write(toFile: "\(config)/\(name)", atomically: true, encoding: .utf8)
        }
        return config
    }

    /// `arguments` on the SQLite ledger, then on the PostgreSQL one: exit codes and `--json` summaries (timing
    /// left out), and the requests the receiver got from each.
    func onBoth(
        _ arguments: [String], at now: String, sqlite: String, postgres: String, server: LoopbackHTTPServer
    ) async throws -> (codes: [Int32], summaries: [String], requests: [[LoopbackHTTPServer.Request]]) {
        var codes: [Int32] = []
        var summaries: [String] = []
        var requests: [[LoopbackHTTPServer.Request]] = []
        for db in [sqlite, postgres] {
            let before = server.requests.count
            let run = try await onOwnThread {
                try CreditsBinary.run(arguments + ["--db", db, "--json"],
                                      environment: ["CREDITS_NOW": now, "CREDITS_ALERT_SECRET": "pg-secret"])
            }
            codes.append(run.exitCode)
            summaries.append(Self.withoutTimes(PostgresInitAndReadTests.withoutTiming(run.stdout)
                .replacingOccurrences(of: #""database":"[^"]*""#, with: "", options: .regularExpression)))
            requests.append(Array(server.requests.dropFirst(before)))
            #expect([0, 3].contains(run.exitCode), "\(db) \(arguments): \(run.stderr)")
        }
        return (codes, summaries, requests)
    }

    @Test func alerts_onPostgres_resolveFireSignAndRecordWhatTheyDoOnSQLite_andReruns_sendNothing() async throws {
        let ledger = try PostgresStoreTests.built.get()
        let sqlite = directory.file("alerts.sqlite")
        try FileManager.default.copyItem(atPath: ledger.site.db, toPath: sqlite)
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let webhook = server.url("/alerts/met-police")
        try await PostgresTestServer.withDatabase { url, location in
            try await PostgresStoreTests.copyLedger(sqlite, to: url)
            func both(_ arguments: [String], at now: String = Self.now) async throws
                -> (codes: [Int32], summaries: [String], requests: [[LoopbackHTTPServer.Request]])
            {
                let run = try await onBoth(arguments, at: now, sqlite: sqlite, postgres: url, server: server)
                #expect(run.codes[0] == run.codes[1] && run.summaries[0] == run.summaries[1], "\(arguments): \(run.summaries)")
                // The same deliveries: bodies, signatures and timestamps (the clock is --now on both).
                #expect(run.requests[0].map(\.body) == run.requests[1].map(\.body), "\(arguments)")
                #expect(run.requests[0].map { $0.headers["credits-signature"] }
                    == run.requests[1].map { $0.headers["credits-signature"] }, "\(arguments)")
                let tables = try await alertTables(sqlite: sqlite, postgres: location)
                #expect(tables.sqlite == tables.postgres, "\(arguments)")
                return run
            }
            // met-police's thresholds drop below what it has, and its webhook moves to the receiver.
            let relaxed = try await both(["init", "--config", try configuration(webhook: webhook, relaxed: true)])
            #expect(relaxed.codes == [0, 0], "\(relaxed.summaries)")
            let before = try await alertTables(sqlite: sqlite, postgres: location).postgres

            let dry = try await both(["alerts", "--dry-run"])
            #expect(server.requests.isEmpty)
            #expect(try await alertTables(sqlite: sqlite, postgres: location).postgres == before, "a dry run changes nothing")
            #expect(dry.summaries[1].contains("\"wouldSend\":[{"), "\(dry.summaries[1])")

            // Both crossings clear: re-armed, and a signed `credits.alert.resolved` sent for each.
            let cleared = try await both(["alerts"])
            #expect(cleared.codes == [3, 3], "a delivery to the fixture's dead webhook fails: \(cleared.summaries)")
            #expect(cleared.summaries[1].contains(#"{"organisationID":"met-police","rule":"low_balance","subject":"balance""#),
                    "\(cleared.summaries[1])")
            #expect(cleared.requests[1].count == 2, "\(cleared.requests[1].count)")
            #expect(cleared.requests[1].allSatisfy { String(decoding: $0.body, as: UTF8.self).contains("credits.alert.resolved") })
            let afterCleared = try await alertTables(sqlite: sqlite, postgres: location).postgres
            #expect(afterCleared != before)

            // Rerun at the same instant: the same answer and exit code, nothing recorded or sent again.
            let rerun = try await both(["alerts"])
            #expect(rerun.codes == cleared.codes && rerun.summaries[1].contains("\"queued\":0"), "\(rerun.summaries[1])")
            #expect(rerun.requests.allSatisfy { $0.isEmpty })
            #expect(try await alertTables(sqlite: sqlite, postgres: location).postgres == afterCleared)

            // The fixture's thresholds again, an hour later: low balance and runway fire, each sent once.
            let later = "2026-12-01T09:00:00Z"
            _ = try await both(["init", "--config", try configuration(webhook: webhook, relaxed: false)], at: later)
            let fired = try await both(["alerts"], at: later)
            #expect(fired.codes == [3, 3])
            #expect(fired.summaries[1].contains(#""fired":[{"#) && fired.summaries[1].contains(#""rule":"runway""#),
                    "\(fired.summaries[1])")
            #expect(fired.requests[1].count == 2, "\(fired.requests[1].count)")
        }
    }

    @Test func twoAlertRunsAtOnce_onPostgres_theSecondExits75() async throws {
        try await PostgresTestServer.withDatabase { url, location in
            try await PostgresStoreTests.copyLedger(to: url)
            // Another run's connection holds the stage's lock (taken as every run takes it).
            let holder = try await onOwnThread {
                let store = try PostgresStore.open(at: location, clock: { Instant(millisecondsSinceEpoch: 0) })
                try store.takeStageLock("alerts", wait: false)
                return store
            }
            let second = try await onOwnThread {
                try CreditsBinary.run(["alerts", "--db", url], environment: ["CREDITS_NOW": Self.now])
            }
            try await onOwnThread { holder.close() }
            #expect(second.exitCode == 75, "\(second.stderr)")
            #expect(second.stderr.contains("another `credits alerts` run holds the advisory lock"), "\(second.stderr)")
            let free = try await onOwnThread {
                try CreditsBinary.run(["alerts", "--dry-run", "--db", url], environment: ["CREDITS_NOW": Self.now])
            }
            #expect([0, 3].contains(free.exitCode), "the lock is free again: \(free.stderr)")
        }
    }
}
