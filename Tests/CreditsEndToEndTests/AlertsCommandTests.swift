import Foundation
import Ledger
import Testing
import TestSupport

/// Goal: `credits alerts` and `credits apply` as a scheduler runs them: the fixture configuration,
/// a fixed `--now`, a signed webhook received on loopback, exit 3 when an alert fires, and a rerun
/// that fires and sends nothing.
@Suite("credits alerts", .serialized)
struct AlertsCommandTests {
    let directory = TemporaryDirectory("e2e-alerts")
    var db: String { directory.file("ledger.sqlite") }
    static let now = "2026-11-02T09:00:00Z"

    /// The fixture configuration with met-police's webhook pointed at `url`.
    func configuration(webhook url: String) throws -> String {
        let config = directory.file("config")
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        let fixtures = "\(repositoryRoot)/fixtures/config"
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures) {
            let text = try String(contentsOfFile: "\(fixtures)/\(name)", encoding: .utf8)
                .replacingOccurrences(of: "http://127.0.0.1:9/alerts/met-police", with: url)
            try text.write(toFile: "\(config)/\(name)", atomically: true, encoding: .utf8)
        }
        return config
    }

    func credits(_ arguments: String...) throws -> CreditsBinary.Result {
        try CreditsBinary.run(arguments + ["--db", db, "--now", Self.now],
                              environment: ["CREDITS_ALERT_SECRET": "e2e-secret"])
    }

    @Test("dry run sends nothing; the run fires, signs and delivers; the rerun is quiet")
    func alerts_dryRunThenDeliverThenRerun() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let config = try configuration(webhook: server.url("/alerts/met-police"))
        #expect(try credits("init", "--config", config).exitCode == 0)

        let dry = try credits("alerts", "--dry-run", "--json")
        #expect(dry.exitCode == 3, "\(dry.stderr)")
        let dryResult = try #require(try dry.json()["result"] as? [String: Any])
        #expect((dryResult["wouldSend"] as? [[String: Any]])?.count == 1)
        #expect(server.requests.isEmpty)

        let run = try credits("alerts", "--json")
        #expect(run.exitCode == 3, "\(run.stderr)")
        let result = try #require(try run.json()["result"] as? [String: Any])
        let fired = try #require(result["fired"] as? [[String: Any]])
        let metPolice = try #require(fired.first { $0["organisationID"] as? String == "met-police" })
        #expect(metPolice["rule"] as? String == "low_balance")
        #expect(metPolice["value"] as? String == "0")
        #expect(metPolice["threshold"] as? String == "10000")
        #expect((result["deliveries"] as? [String: Int])?["succeeded"] == 1)

        let request = try #require(server.requests.first)
        #expect(server.requests.count == 1)
        let timestamp = try Instant.parse(Self.now).get().millisecondsSinceEpoch
        #expect(request.headers["credits-request-timestamp"] == String(timestamp))
        #expect(request.headers["credits-signature"]?.hasPrefix("v1=") == true)
        #expect(request.headers["credits-signature"]?.count == 67)
        #expect(String(decoding: request.body, as: UTF8.self).contains("\"organisationID\":\"met-police\""))

        // The same inputs at the same instant: the same answer and exit code, nothing recorded or sent again.
        let rerun = try credits("alerts", "--json")
        #expect(rerun.exitCode == 3, "\(rerun.stderr)")
        let rerunResult = try #require(try rerun.json()["result"] as? [String: Any])
        #expect(NSArray(array: try #require(rerunResult["fired"] as? [Any])).isEqual(to: fired))
        #expect(rerunResult["queued"] as? Int == 0)
        #expect((rerunResult["deliveries"] as? [String: Int])?["attempted"] == 0)
        #expect(server.requests.count == 1)

        // A later evaluation with the condition still breached is quiet: the alert fired once.
        let later = try CreditsBinary.run(
            ["alerts", "--json", "--db", db, "--now", "2026-11-02T10:00:00Z"],
            environment: ["CREDITS_ALERT_SECRET": "e2e-secret"])
        #expect(later.exitCode == 0, "\(later.stderr)")
        #expect((try #require(try later.json()["result"] as? [String: Any])["fired"] as? [Any])?.isEmpty == true)
        #expect(server.requests.count == 1)
    }

    /// Issue 15 (kill sweep of `alerts`): when the only thing left of a run is a delivery that failed at its
    /// instant, rerunning it at that instant exits 3 as the run did (docs/ALERTS.md), sending nothing again.
    @Test("a rerun whose only news is a failed delivery exits 3 like the run it repeats")
    func alerts_rerunAfterFailedRetry_exitsLikeTheRun() throws {
        let server = try LoopbackHTTPServer(statuses: [500, 503])
        defer { server.stop() }
        let config = try configuration(webhook: server.url("/alerts/met-police"))
        #expect(try credits("init", "--config", config).exitCode == 0)
        #expect(try credits("alerts").exitCode == 3)  // fired; the delivery failed (500)
        func retry() throws -> CreditsBinary.Result {
            try CreditsBinary.run(["alerts", "--json", "--db", db, "--now", "2026-11-02T09:05:00Z"],
                                  environment: ["CREDITS_ALERT_SECRET": "e2e-secret"])
        }
        let uninterrupted = try retry()  // nothing fires; the due retry fails (503)
        #expect(uninterrupted.exitCode == 3, "\(uninterrupted.stderr)")
        let first = try #require(try uninterrupted.json()["result"] as? [String: Any])
        #expect((first["fired"] as? [Any])?.isEmpty == true)
        #expect((first["deliveries"] as? [String: Int])?["failed"] == 1)
        #expect(server.requests.count == 2)

        let rerun = try retry()
        #expect(rerun.exitCode == 3, "\(rerun.stderr)")
        let again = try #require(try rerun.json()["result"] as? [String: Any])
        #expect((again["deliveries"] as? [String: Int])?["attempted"] == 0)
        let failures = try #require(again["failures"] as? [[String: Any]])
        #expect(failures.count == 1 && failures.first?["error"] as? String == "HTTP 503", "\(failures)")
        #expect(NSArray(array: failures).isEqual(to: try #require(first["failures"] as? [Any])))
        #expect(server.requests.count == 2, "nothing sent again")
    }

    @Test("another run holding the alerts lock: exit 75, nothing evaluated")
    func alerts_lockedExits75() throws {
        #expect(try credits("init", "--config", "\(repositoryRoot)/fixtures/config").exitCode == 0)
        do {
            let held = try StageLock(stage: "alerts", databasePath: db, now: try Instant.parse(Self.now).get())
            let run = try credits("alerts", "--json")
            withExtendedLifetime(held) {}
            #expect(run.exitCode == 75, "\(run.stderr)")
        }
        #expect(try credits("alerts", "--dry-run").exitCode == 3)  // the lock is free again
    }

    @Test("apply evaluates alerts after it commits and keeps its own summary fields")
    func apply_thenEvaluatesAlerts() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let config = try configuration(webhook: server.url("/alerts/met-police"))
        #expect(try credits("init", "--config", config).exitCode == 0)
        let reconcile = try credits("reconcile", "--as-of", "2026-11-01")
        #expect([0, 3].contains(reconcile.exitCode), "\(reconcile.stderr)")

        let apply = try credits("apply", "--json")
        #expect(apply.exitCode == 0, "\(apply.stderr)")
        let result = try #require(try apply.json()["result"] as? [String: Any])
        #expect(result["status"] as? String == "applied")
        #expect(result["planID"] != nil && result["transfers"] != nil)
        let alerts = try #require(result["alerts"] as? [String: Any])
        #expect(alerts["status"] as? String == "evaluated")
        // met-police received its 50,000 allocation: not low, so nothing was sent for it.
        let fired = try #require((alerts["result"] as? [String: Any])?["fired"] as? [[String: Any]])
        #expect(!fired.contains {
            $0["organisationID"] as? String == "met-police" && $0["rule"] as? String == "low_balance"
        })
        #expect(server.requests.isEmpty)

        let again = try credits("apply", "--json")
        let againResult = try #require(try again.json()["result"] as? [String: Any])
        #expect((againResult["alerts"] as? [String: Any])?["status"] as? String == "skipped")
    }
}
