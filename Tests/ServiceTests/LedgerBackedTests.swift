import Foundation
import GRDB
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// The service over a real ledger file: stored API keys, `creditBalance`, `transactions`, the ledger gate,
/// and organisation isolation (I13).
@Suite struct LedgerBackedTests {
    let directory = TemporaryDirectory("service-ledger")

    /// `met` with 150 credits from three grants and 100 of them reserved for P1; `gmp` with nothing.
    func makeLedger() throws -> LedgerDatabase {
        let reservation = Reservation(id: "p1-floor", credits: credits("100"), maxPriority: .p1)
        let ledger = try SampleWorld.ledger(
            in: directory,
            organisations: [
                SampleWorld.organisation("met", reservations: [reservation]), SampleWorld.organisation("gmp"),
            ])
        try ledger.write { tx in
            for (index, amount) in ["50", "60", "40"].enumerated() {
                _ = try tx.grant(GrantRequest(
                    idempotencyKey: "grant-\(index)", organisationID: "met", source: .topUp, credits: credits(amount),
                    price: Money(minorUnits: 100 * Int64(index + 1), currency: .gbp),
                    effectiveAt: instant("2026-11-0\(index + 1)T10:00:00Z"),
                    references: TransferReferences(revolutOrderID: "order-\(index)")))
            }
        }
        return ledger
    }

    struct Keys {
        let met: String
        let gmp: String
        let admin: String
    }

    func withLedgerService(_ body: (ServiceHTTPTests.Harness, Keys) async throws -> Void) async throws {
        let ledger = try makeLedger()
        let keys = Keys(
            met: try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "test"),
            gmp: try LedgerAPIKeyStore.issue(in: ledger, organisationID: "gmp", label: "test"),
            admin: try LedgerAPIKeyStore.issue(in: ledger, organisationID: nil, label: "admin"))
        var configuration = ServiceConfiguration()
        configuration.port = 0
        let metrics = MetricsRegistry()
        let now: NowProvider = { instant("2026-11-24T12:00:00Z") }
        let dependencies = ServiceDependencies(
            keyStore: LedgerAPIKeyStore(ledger: ledger), metrics: metrics, now: now,
            graphQL: try LedgerSchema.endpoint(ledger: ledger, now: now, limits: GraphQLLimits(), metrics: metrics))
        try await withLiveApplication({ onRunning in
            try CreditsServer.makeApplication(
                configuration: configuration, dependencies: dependencies, logger: quietLogger("ledger-service"),
                onServerRunning: onRunning)
        }) { port in
            let base = URL(string: "http://127.0.0.1:\(port)")!
            try await body(ServiceHTTPTests.Harness(base: base, metrics: metrics), keys)
        }
    }

    static func query(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["query": text]), as: UTF8.self)
    }

    @Test func testStoredKeysResolveAndRevokedKeysDoNot() async throws {
        let ledger = try makeLedger()
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "laptop")
        let admin = try LedgerAPIKeyStore.issue(in: ledger, organisationID: nil, label: "ops")
        let store = LedgerAPIKeyStore(ledger: ledger)
        let hash = try #require(APIKey.hash(presented: key))
        #expect(try await store.principal(for: hash) == .organisation(id: "met"))
        #expect(try await store.principal(for: try #require(APIKey.hash(presented: admin))) == .platformAdmin)
        #expect(try await store.principal(for: APIKey.generate().hash) == nil)
        let revoked = try await ledger.write { try $0.revokeAPIKey(hash: hash.hex) }
        #expect(revoked)
        #expect(try await store.principal(for: hash) == nil)
        #expect(throws: PostingRejection.organisationNotFound("nope")) {
            try LedgerAPIKeyStore.issue(in: ledger, organisationID: "nope", label: "")
        }
        let stored = try String.fetchAllHashes(ledger)
        #expect(!stored.joined().contains(key))
        #expect(stored.contains { $0.hasPrefix(hash.hex) })
    }

    @Test func testCreditBalanceAndIsolation() async throws {
        try await withLedgerService { service, keys in
            let balance = "{ creditBalance(organisationId: \"met\") "
                + "{ organisationId available reserved spendable currency asOf } }"
            let own = try await service.graphQL(Self.query(balance), key: keys.met)
            #expect(own.text == #"{"data":{"creditBalance":{"organisationId":"met","available":"150","reserved":"100","#
                + #""spendable":"50","currency":"GBP","asOf":"2026-11-24T12:00:00.000Z"}}}"#)
            #expect(try await service.graphQL(Self.query(balance), key: keys.admin).text == own.text)

            let foreign = try await service.graphQL(Self.query(balance), key: keys.gmp)
            let missing = try await service.graphQL(
                Self.query("{ creditBalance(organisationId: \"nope\") { available } }"), key: keys.admin)
            #expect(foreign.text.contains("Organisation not found."))
            #expect(!foreign.text.contains("150"))
            #expect(missing.text.contains("Organisation not found."))
            let history = try await service.graphQL(
                Self.query("{ transactions(organisationId: \"met\") { edges { cursor } } }"), key: keys.gmp)
            #expect(history.text.contains("Organisation not found.") && !history.text.contains("cursor\":"))
        }
    }

    @Test func testTransactionsPageWithCursorsAndFilters() async throws {
        try await withLedgerService { service, keys in
            let first = try await service.graphQL(Self.query(
                "{ transactions(organisationId: \"met\", first: 2) { edges { cursor node { kind credits "
                    + "moneyMinorUnits "
                    + "revolutOrderId effectiveAt } } pageInfo { hasNextPage endCursor } } }"), key: keys.met)
            let page = try #require(
                (try first.json()["data"] as? [String: Any])?["transactions"] as? [String: Any], "\(first.text)")
            let edges = try #require(page["edges"] as? [[String: Any]])
            #expect(edges.count == 2)
            #expect((edges[0]["node"] as? [String: Any])?["credits"] as? String == "50")
            #expect((edges[0]["node"] as? [String: Any])?["revolutOrderId"] as? String == "order-0")
            let pageInfo = try #require(page["pageInfo"] as? [String: Any])
            #expect(pageInfo["hasNextPage"] as? Bool == true)
            let cursor = try #require(pageInfo["endCursor"] as? String)

            let rest = try await service.graphQL(Self.query(
                "{ transactions(organisationId: \"met\", first: 2, after: \"\(cursor)\") { edges { node { credits } } "
                    + "pageInfo { hasNextPage } } }"), key: keys.met)
            #expect(rest.text == #"{"data":{"transactions":{"edges":[{"node":{"credits":"40"}}],"#
                + #""pageInfo":{"hasNextPage":false}}}}"#)

            let ranged = try await service.graphQL(Self.query(
                "{ transactions(organisationId: \"met\", from: \"2026-11-02T00:00:00Z\", to: \"2026-11-03T00:00:00Z\", "
                    + "kinds: [\"top_up\"]) { edges { node { credits } } } }"), key: keys.met)
            #expect(ranged.text == #"{"data":{"transactions":{"edges":[{"node":{"credits":"60"}}]}}}"#)

            for bad in ["first: 0", "first: 101", "after: \"zz\"", "kinds: [\"gift\"]", "from: \"yesterday\""] {
                let answer = try await service.graphQL(
                    Self.query("{ transactions(organisationId: \"met\", \(bad)) { edges { cursor } } }"), key: keys.met)
                #expect(answer.text.contains("errors"), "\(bad): \(answer.text)")
                #expect(!answer.text.contains("Internal error"), "\(bad): \(answer.text)")
            }
        }
    }

    @Test func testLedgerGateFollowsSpendableAndReserve() async throws {
        let gate = LedgerCreditGate(ledger: try makeLedger())
        #expect(try await gate.decide(SpendIntent(organisationID: "met", credits: credits("50"))) == .allow)
        #expect(try await gate.decide(SpendIntent(organisationID: "met", credits: credits("51")))
            == .refuse(spendable: credits("50"), rule: .reserveFloor, priority: nil))
        #expect(try await gate.decide(
            SpendIntent(organisationID: "met", investigationID: "op-urgent", credits: credits("150"))) == .allow)
        #expect(try await gate.decide(
            SpendIntent(organisationID: "met", investigationID: "op-routine", credits: credits("120")))
            == .refuse(spendable: credits("50"), rule: .reserveFloor, priority: 3))
        #expect(try await gate.decide(SpendIntent(organisationID: "gmp"))
            == .refuse(spendable: .zero, rule: .zeroBalance, priority: nil))
        await #expect(throws: ProblemDetails.organisationNotFound) {
            try await gate.decide(SpendIntent(organisationID: "nope"))
        }
    }
}

extension String {
    /// Every value in `api_keys.key_hash`, read with plain SQL to prove what is stored.
    static func fetchAllHashes(_ ledger: LedgerDatabase) throws -> [String] {
        try ledger.read { reader in
            try String.fetchAll(reader.db, sql: "SELECT key_hash || ' ' || label FROM api_keys")
        }
            .joined(separator: "\n").split(separator: "\n").map(String.init)
    }
}
