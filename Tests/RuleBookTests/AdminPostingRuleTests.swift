import Foundation
import Ledger
import Logging
import Service
import Testing
import TestSupport

/// Goal: an administrator's posting follows one idempotency rule whichever way it arrives. The CLI
/// (`credits ledger allocate|top-up|adjust`, which calls `LedgerTransaction.postAdmin`) and GraphQL's
/// admin mutations used to differ: a CLI retry without `--at` was refused as different content (the
/// clock had moved), a GraphQL retry was accepted.
@Suite struct AdminPostingRuleTests {
    @Test("a posting retried across paths and instants is one transfer; other content under the key is refused on both")
    func bothPathsShareTheRetryRule() async throws {
        let directory = TemporaryDirectory("admin-posting")
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        let clock = instant("2026-11-20T10:00:00Z")
        _ = try await ledger.write { tx in
            try tx.grant(GrantRequest(
                idempotencyKey: "fund", organisationID: "met", source: .allocation, credits: credits("100"),
                effectiveAt: instant("2026-11-01T00:00:00Z")))
        }
        let endpoint = try LedgerSchema.endpoint(
            ledger: ledger, now: { clock }, limits: GraphQLLimits(), metrics: MetricsRegistry())
        func graphQL(_ mutation: String) async throws -> [String: Any] {
            let body = try JSONSerialization.data(withJSONObject: ["query": mutation])
            let reply = await endpoint.respond(
                to: .post(body: Array(body)), mediaType: .json, principal: .platformAdmin, keyID: "admin", requestID: "r",
                logger: Logger(label: "t"))
            return try #require(JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
        }

        // GraphQL first, then the CLI's call minutes later with the same key and content: one transfer.
        /// The payload of `adjustCredits` with `input` (GraphQL input-object fields).
        func adjust(_ input: String) async throws -> [String: Any] {
            let answer = try await graphQL(
                "mutation { adjustCredits(input: {\(input)}) { transaction { id } userErrors { code message } } }")
            return try #require((answer["data"] as? [String: Any])?["adjustCredits"] as? [String: Any], "\(answer)")
        }
        /// The code and message of the payload's one user error.
        func userError(_ payload: [String: Any]) throws -> (code: String?, message: String?) {
            let errors = try #require(payload["userErrors"] as? [[String: Any]], "\(payload)")
            #expect(errors.count == 1, "\(payload)")
            return (errors.first?["code"] as? String, errors.first?["message"] as? String)
        }
        let live = try await adjust(#"organisationId: "met", credits: "-30", idempotencyKey: "fix-1", memo: "double charge""#)
        let liveID = try #require((live["transaction"] as? [String: Any])?["id"] as? String, "\(live)")
        let request = AdminPostingRequest(
            kind: .adjustment, idempotencyKey: "fix-1", organisationID: "met", credits: credits("-30"),
            effectiveAt: clock.adding(milliseconds: 7 * 60_000), memo: "double charge")
        let batch = try await ledger.write { tx in try tx.postAdmin(request) }
        #expect(batch.status == .exists)
        #expect(String(batch.transfer.id) == liveID)

        // The same key with another amount, or the other sign, is refused on both paths alike.
        var opposite = request
        opposite.credits = credits("30")
        let other = opposite
        await #expect(throws: PostingRejection.self) { try await ledger.write { tx in try tx.postAdmin(other) } }
        let refused = try userError(
            try await adjust(#"organisationId: "met", credits: "30", idempotencyKey: "fix-1", memo: "double charge""#))
        #expect(refused.code == PostingRejection.Code.idempotencyKeyReusedWithDifferentContent.rawValue)
        #expect(refused.message?.contains("idempotency key fix-1 was already used") == true, "\(refused)")

        // No reason, no adjustment: the same rule and words on both paths.
        var withoutMemo = request
        withoutMemo.idempotencyKey = "fix-2"
        withoutMemo.memo = nil
        let unexplained = withoutMemo
        await #expect(throws: AdminPostingRejection.reasonRequired) {
            try await ledger.write { tx in try tx.postAdmin(unexplained) }
        }
        let noMemo = try userError(try await adjust(#"organisationId: "met", credits: "-30", idempotencyKey: "fix-2""#))
        #expect(noMemo.code == AdminPostingRejection.Code.reasonRequired.rawValue)
        #expect(noMemo.message == AdminPostingRejection.reasonRequired.description)
    }
}
