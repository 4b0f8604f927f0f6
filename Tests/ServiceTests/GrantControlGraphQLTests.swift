import Foundation
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// The grant controls and draws through GraphQL, over a real server and ledger file: the same rules as
/// `credits ledger void-grant|move-expiry|grants|draws`, with refusals as `userErrors`.
@Suite struct GrantControlGraphQLTests {
    let world = LedgerBackedTests()

    func data(_ answer: HTTPAnswer, _ field: String) throws -> Any? {
        (try answer.json()["data"] as? [String: Any])?[field] ?? nil
    }

    @Test func grantsDrawsVoidAndMoveExpiry() async throws {
        try await world.withLedgerService { service, keys in
            func send(_ query: String, key: String) async throws -> HTTPAnswer {
                try await service.graphQL(LedgerBackedTests.query(query), key: key)
            }
            let grants = try await send(#"{ grants(organisationId: "met") { id source credits remaining expiresAt } }"#, key: keys.met)
            let listed = try #require(try data(grants, "grants") as? [[String: Any]], "\(grants.text)")
            #expect(listed.map { $0["remaining"] as? String } == ["50", "60", "40"])
            let first = try #require(listed.first?["id"] as? String)
            let foreign = try await send(#"{ grants(organisationId: "met") { id } }"#, key: keys.gmp)
            #expect(foreign.text.contains("Organisation not found."))

            let void = #"mutation { voidGrant(input: {grantId: "\#(first)", idempotencyKey: "v1", reason: "sold in error"}) "#
                + "{ transaction { id kind credits actor memo } userErrors { code field } } }"
            let voided = try await send(void, key: keys.admin)
            let adminKeyID = try #require(APIKey.hash(presented: keys.admin)?.id)
            #expect(voided.text.contains(#""kind":"REVERSAL","credits":"-50","actor":"key:\#(adminKeyID)","memo":"sold in error""#),
                    "\(voided.text)")
            #expect(try await send(void, key: keys.admin).text == voided.text, "a retry is the same void")
            let nothingLeft = try await send(
                #"mutation { voidGrant(input: {grantId: "\#(first)", idempotencyKey: "v2", reason: "again"}) "#
                    + "{ userErrors { code field } } }", key: keys.admin)
            #expect(nothingLeft.text.contains(#"{"code":"nothingLeftToVoid","field":["input","grantId"]}"#), "\(nothingLeft.text)")
            let noReason = try await send(
                #"mutation { voidGrant(input: {grantId: "\#(first)", idempotencyKey: "v3", reason: " "}) "#
                    + "{ userErrors { code field } } }", key: keys.admin)
            #expect(noReason.text.contains(#"{"code":"reasonRequired","field":["input","reason"]}"#), "\(noReason.text)")
            #expect(try await send(void, key: keys.met).text.contains("FORBIDDEN"))

            let draws = try await send(#"{ draws(organisationId: "met", grantId: "\#(first)") { grantId credits } }"#, key: keys.met)
            #expect(draws.text == #"{"data":{"draws":[{"grantId":"\#(first)","credits":"50"}]}}"#, "\(draws.text)")

            let second = try #require(listed.dropFirst().first?["id"] as? String)
            let move = #"mutation { moveGrantExpiry(input: {grantId: "\#(second)", expiresAt: "2027-01-01T00:00:00Z", "#
                + #"idempotencyKey: "m1", reason: "extension"}) { grant { id expiresAt } userErrors { code field } } }"#
            let moved = try await send(move, key: keys.admin)
            #expect(moved.text.contains(#""expiresAt":"2027-01-01T00:00:00.000Z""#), "\(moved.text)")
            let past = try await send(
                #"mutation { moveGrantExpiry(input: {grantId: "\#(second)", expiresAt: "2026-01-01T00:00:00Z", "#
                    + #"idempotencyKey: "m2", reason: "r"}) { userErrors { code field } } }"#, key: keys.admin)
            #expect(past.text.contains(#"{"code":"expiryBeforeNow","field":["input","expiresAt"]}"#), "\(past.text)")

            // The audit statement's digest is the one the CLI computes for the same window.
            let statement = try await send(
                #"{ auditStatement(organisationId: "met", from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z") "#
                    + "{ opening closing movements digest } }", key: keys.met)
            let summary = try #require(try data(statement, "auditStatement") as? [String: Any], "\(statement.text)")
            #expect(summary["opening"] as? String == "0" && summary["movements"] as? Int == 4)
            #expect((summary["digest"] as? String)?.count == 64)
        }
    }
}
