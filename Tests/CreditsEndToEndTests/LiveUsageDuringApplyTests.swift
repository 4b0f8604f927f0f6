import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Goal: the nightly plan and the live service share one ledger. Usage recorded by a real
/// `credits serve` on loopback between reconcile and apply, for an organisation the plan charges,
/// does not stop apply when the plan's transfers and findings are unaffected; when it does affect
/// them, apply refuses (75, nothing posted) and a rerun of reconcile makes a fresh plan that applies.
@Suite(.serialized) struct LiveUsageDuringApplyTests {
    let directory = TemporaryDirectory("e2e-live-apply")
    var db: String { directory.file("ledger.sqlite") }
    let now = ["CREDITS_NOW": "2026-11-04T06:00:00Z"]

    func credits(_ arguments: [String]) throws -> CreditsBinary.Result {
        try CreditsBinary.run(arguments + ["--db", db], environment: now)
    }

    func reconcile(_ date: String) throws -> [String: Any] {
        let run = try credits(["reconcile", "--as-of", date, "--json"])
        #expect(run.exitCode == 0 || run.exitCode == 3, "\(run.stderr)")
        return try #require(try run.json()["result"] as? [String: Any])
    }

    func ingest(_ file: String) throws {
        let run = try credits(["ingest", "events", "\(repositoryRoot)/fixtures/events/\(file)",
                               "--rejects", directory.file("rejects-\(file).jsonl")])
        #expect(run.exitCode == 0 || run.exitCode == 3, "\(run.stderr)")
    }

    /// `POST /v1/usage` for met-police's P1 investigation; returns the HTTP status.
    static func recordUsage(
        port: Int, key: String, eventID: String, credits amount: String, at occurredAt: String = "2026-11-04T05:00:00Z"
    ) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/usage")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("""
            {"event_id":"\(eventID)","organisation_id":"met-police","team":"child-protection",\
            "investigation":"op-nightjar","operation":"transcription","credits":"\(amount)",\
            "occurred_at":"\(occurredAt)"}
            """.utf8)
        for _ in 0..<50 {
            if let (_, response) = try? await URLSession.shared.data(for: request) {
                return (response as? HTTPURLResponse)?.statusCode ?? 0
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return 0
    }

    func available(_ organisation: String) throws -> Double {
        let run = try credits(["ledger", "balance", "--org", organisation, "--json"])
        let views = try #require(try run.json()["result"] as? [[String: Any]])
        let available = try #require(views.first?["available"] as? String)
        return try #require(Double(available))
    }

    @Test func applyWhileTheServiceRecordsUsage() async throws {
        #expect(try credits(["init", "--config", "\(repositoryRoot)/fixtures/config"]).exitCode == 0)
        try ingest("events-2026-11-01.jsonl")
        _ = try reconcile("2026-11-01")
        #expect(try credits(["apply", "--no-alerts"]).exitCode == 0)
        let key = try credits(["keys", "create", "--org", "met-police"]).stdout
            .split(separator: "\n").first.map(String.init) ?? ""
        let (server, port) = try KeysAndServeCommandTests.serve(db: db)
        defer { if server.isRunning { server.terminate() } }

        // Unaffected: a little P1 usage, well inside met-police's unreserved credits.
        try ingest("events-2026-11-02.json")
        let reviewed = try reconcile("2026-11-02")
        #expect((reviewed["items"] as? [String: Int])?["deduction"] ?? 0 > 0)
        #expect(try await Self.recordUsage(port: port, key: key, eventID: "live-1", credits: "10") == 201)
        let applied = try credits(["apply", "--no-alerts", "--json"])
        #expect(applied.exitCode == 0, "\(applied.stderr)")
        #expect((try applied.json()["result"] as? [String: Any])?["digest"] as? String == reviewed["digest"] as? String)

        // Affected: P1 usage takes all but 4,000 of met-police's credits, less than its 5,000 P1
        // reserve, so the plan's P3 usage would now be charged into the reserve: not what was reviewed.
        try ingest("events-2026-11-03.jsonl.gz")
        let stale = try reconcile("2026-11-03")
        let take = Int(try available("met-police")) - 4_000
        #expect(try await Self.recordUsage(port: port, key: key, eventID: "live-2", credits: "\(take)") == 201)
        let before = try available("met-police")
        let refused = try credits(["apply", "--no-alerts"])
        #expect(refused.exitCode == 75, "\(refused.stderr)")
        #expect(refused.stderr.contains("stale") && refused.stderr.contains("met-police"), "\(refused.stderr)")
        #expect(try available("met-police") == before, "nothing of the stale plan was posted")

        let fresh = try reconcile("2026-11-03")
        #expect(fresh["newPlan"] as? Bool == true, "a stale plan is never returned as unchanged")
        #expect(fresh["digest"] as? String != stale["digest"] as? String)
        let exceptions = (fresh["exceptions"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(exceptions.contains("usageIntoReserve"))
        let retried = try credits(["apply", "--no-alerts", "--json"])
        #expect(retried.exitCode == 0, "\(retried.stderr)")
        #expect(try credits(["ledger", "verify"]).exitCode == 0)

        server.terminate()
        server.waitUntilExit()
    }
}
