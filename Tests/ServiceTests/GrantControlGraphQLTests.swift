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

    @Test(arguments: StoreKind.available) func grantsDrawsVoidAndMoveExpiry(_ store: StoreKind) async throws {
        try await world.withLedgerService(store) { service, keys in
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

    /// Issue 19: `auditStatement` answers the movements a page at a time (actor, reason, balance before and
    /// after, chained across pages from the opening to the closing) and, when the service has an audit key,
    /// the signature of its digest, which the key's public half verifies; without a key it says unsigned.
    @Test(arguments: StoreKind.available) func auditStatement_movementsPaged_andSignedWithTheServiceKey(_ store: StoreKind) async throws {
        let key = AuditSigningKey()
        let window = #"organisationId: "met", from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z""#
        let movement = "cursor node { transactionId kind credits actor reason reference balanceBefore balanceAfter }"
        try await world.withLedgerService(store, auditSigningKey: key) { service, keys in
            func send(_ query: String) async throws -> [String: Any] {
                let answer = try await service.graphQL(LedgerBackedTests.query(query), key: keys.met)
                return try #require(try data(answer, "auditStatement") as? [String: Any], "\(answer.text)")
            }
            let adjusted = try await service.graphQL(LedgerBackedTests.query(
                #"mutation { adjustCredits(input: {organisationId: "met", credits: "5", idempotencyKey: "a1", memo: "goodwill"}) "#
                    + "{ userErrors { code } } }"), key: keys.admin)
            #expect(adjusted.text.contains(#""userErrors":[]"#), "\(adjusted.text)")
            let statement = try await send(
                "{ auditStatement(\(window)) { opening closing movements digest signed signature signingPublicKey "
                    + "entries(first: 3) { edges { \(movement) } pageInfo { hasNextPage endCursor } } } }")
            let digest = try #require(statement["digest"] as? String)
            #expect(statement["signed"] as? Bool == true && statement["signingPublicKey"] as? String == key.publicKey.hex)
            let signatureHex = try #require(statement["signature"] as? String)
            let signature = try #require(AuditStatementSignature.bytes(hex: signatureHex))
            #expect(key.publicKey.isValidSignature(signature, digest: digest))
            let firstPage = try #require(statement["entries"] as? [String: Any])
            var edges = try #require(firstPage["edges"] as? [[String: Any]])
            let pageInfo = try #require(firstPage["pageInfo"] as? [String: Any])
            #expect(edges.count == 3 && pageInfo["hasNextPage"] as? Bool == true)
            let cursor = try #require(pageInfo["endCursor"] as? String)
            let rest = try await send(
                "{ auditStatement(\(window)) { entries(first: 100, after: \"\(cursor)\") { edges { \(movement) } "
                    + "pageInfo { hasNextPage hasPreviousPage } } } }")
            let restPage = try #require(rest["entries"] as? [String: Any])
            edges += try #require(restPage["edges"] as? [[String: Any]])
            #expect((restPage["pageInfo"] as? [String: Any])?["hasNextPage"] as? Bool == false)
            #expect(edges.count == statement["movements"] as? Int)
            // Each balance follows from the one before, from the opening to the closing, across the pages.
            var balance = try #require(statement["opening"] as? String)
            for edge in edges {
                let node = try #require(edge["node"] as? [String: Any])
                #expect(node["balanceBefore"] as? String == balance, "\(node)")
                let changeText = try #require(node["credits"] as? String)
                let before = try Credits.parse(balance).get(), change = try Credits.parse(changeText).get()
                balance = try #require(node["balanceAfter"] as? String)
                #expect(try before.adding(change) == (try Credits.parse(balance).get()))
                #expect((node["actor"] as? String)?.isEmpty == false)
            }
            #expect(balance == statement["closing"] as? String)
            // Who and why: the grants' order references, the admin's adjustment with its reason.
            let nodes = edges.compactMap { $0["node"] as? [String: Any] }
            #expect(nodes.map { $0["reference"] as? String } == ["order-0", "order-1", "order-2", nil])
            let adminKeyID = try #require(APIKey.hash(presented: keys.admin)?.id)
            #expect(nodes.last?["actor"] as? String == "key:\(adminKeyID)" && nodes.last?["reason"] as? String == "goodwill")
            #expect(nodes.last?["kind"] as? String == "ADJUSTMENT")

            let foreignCursor = try await service.graphQL(LedgerBackedTests.query(
                "{ auditStatement(\(window)) { entries(after: \"bm9wZTox\") { edges { cursor } } } }"), key: keys.met)
            #expect(foreignCursor.text.contains("not a cursor"), "\(foreignCursor.text)")
        }
        try await world.withLedgerService(store) { service, keys in
            let answer = try await service.graphQL(LedgerBackedTests.query(
                "{ auditStatement(\(window)) { signed signature signingPublicKey } }"), key: keys.met)
            #expect(answer.text.contains(#""signed":false,"signature":null,"signingPublicKey":null"#), "\(answer.text)")
        }
    }
}
