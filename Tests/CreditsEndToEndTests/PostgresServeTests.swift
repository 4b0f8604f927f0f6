import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Goal (issue 17): `credits serve --db postgres://...` as operators run it, several replicas of the binary on
/// one database: each answers usage and GraphQL from the one ledger, and a replica killed (SIGKILL) while it
/// commits usage loses and doubles nothing: the clients' retries, sent to a surviving replica, charge each
/// event exactly once, and `ledger verify` passes on PostgreSQL.
@Suite(.serialized, .enabled(if: PostgresTestServer.available, "\(PostgresTestServer.skipMessage)"))
struct PostgresServeTests {
    static let organisation = "met-police"

    /// A fixture ledger on a database of its own with `credits` allocated to `met-police` (5,000 of them reserved
    /// for P1 work) and an API key for it.
    func withServedLedger(credits: String, _ body: (_ url: String, _ key: String) async throws -> Void) async throws {
        try await PostgresTestServer.withDatabase { url, _ in
            let key = try await onOwnThread { () throws -> String in
                let initialised = try CreditsBinary.run(["init", "--db", url, "--config", "\(repositoryRoot)/fixtures/config"])
                #expect(initialised.exitCode == 0, "\(initialised.stderr)")
                let allocated = try CreditsBinary.run([
                    "ledger", "allocate", "--db", url, "--org", Self.organisation, "--credits", credits, "--key", "serve-test",
                    "--reason", "replica test",
                ])
                #expect(allocated.exitCode == 0, "\(allocated.stderr)")
                let created = try CreditsBinary.run(["keys", "create", "--org", Self.organisation, "--db", url, "--json"])
                return try #require((try created.json()["result"] as? [String: Any])?["key"] as? String)
            }
            try await body(url, key)
        }
    }

    /// A usage event of `met-police` (a configured team and investigation) for one credit.
    static func event(_ id: String) -> String {
        #"{"event_id":"\#(id)","organisation_id":"met-police","team":"fraud","operation":"ocr","credits":"1","#
            + #""occurred_at":"2026-11-20T10:00:00Z"}"#
    }

    static func postUsage(_ replica: ServeProcess, key: String, _ id: String) async throws -> Int {
        try await replica.request(
            "/v1/usage", method: "POST", headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
            body: event(id)
        ).status
    }

    static func available(_ replica: ServeProcess, key: String) async throws -> String? {
        let answer = try await replica.request(
            "/graphql", method: "POST", headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
            body: #"{"query":"{ creditBalance(organisationId: \"met-police\") { available } }"}"#)
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        return ((json?["data"] as? [String: Any])?["creditBalance"] as? [String: Any])?["available"] as? String
    }

    @Test func twoReplicasServeOneLedger_andAReplicaKilledMidCommitLosesAndDoublesNothing() async throws {
        try await withServedLedger(credits: "8000") { url, key in
            let first = try ServeProcess(["--db", url, "--log-format", "text"])
            let second = try ServeProcess(["--db", url, "--log-format", "text"])
            defer { second.stop() }
            // Both answer from the one ledger: a charge through one is seen through the other.
            let recorded = try await first.request(
                "/v1/usage", method: "POST", headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
                body: Self.event("e-0"))
            #expect(recorded.status == 201, "\(recorded.body)")
            #expect(try await Self.postUsage(second, key: key, "e-0") == 200, "a duplicate, whichever replica")
            #expect(try await Self.available(second, key: key) == "7999")

            // Forty events to the first replica, all at once, and SIGKILL while they commit.
            let ids = (1...40).map { "e-\($0)" }
            let burst = Task {
                await withTaskGroup(of: Void.self) { group in
                    for id in ids { group.addTask { _ = try? await Self.postUsage(first, key: key, id) } }
                }
            }
            try await Task.sleep(for: .milliseconds(30))
            kill(first.process.processIdentifier, SIGKILL)
            first.process.waitUntilExit()
            await burst.value

            // The clients retry every event on the surviving replica: each is charged exactly once.
            var statuses: [Int] = []
            for id in ids { statuses.append(try await Self.postUsage(second, key: key, id)) }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 201 }, "\(statuses)")
            #expect(try await Self.available(second, key: key) == "7959")
            #expect(second.stop() == 0)

            let verify = try await onOwnThread { try CreditsBinary.run(["ledger", "verify", "--db", url, "--json"]) }
            #expect(verify.exitCode == 0, "\(verify.stderr)")
            let result = try verify.json()["result"] as? [String: Any]
            // One allocation and 41 deductions, none twice.
            #expect(result?["transfers"] as? Int == 42, "\(verify.stdout)")
        }
    }
}
