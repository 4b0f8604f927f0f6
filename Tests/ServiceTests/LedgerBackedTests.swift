import Foundation
import GRDB
import NIOCore
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// The service over a real ledger file: stored API keys, `creditBalance`, `transactions`, the ledger gate,
/// and organisation isolation (I13).
@Suite struct LedgerBackedTests {
    let directory = TemporaryDirectory("service-ledger")

    /// `met` with 100 credits reserved for P1; `gmp` with nothing.
    static let configuration: Ledger.Configuration = {
        let reservation = Reservation(id: "p1-floor", credits: credits("100"), maxPriority: .p1)
        return SampleWorld.configuration([
            SampleWorld.organisation("met", reservations: [reservation]), SampleWorld.organisation("gmp"),
        ])
    }()

    /// `met`'s 150 credits, from three grants.
    static func grantThree(_ tx: LedgerTransaction) throws {
        for (index, amount) in ["50", "60", "40"].enumerated() {
            _ = try tx.grant(GrantRequest(
                idempotencyKey: "grant-\(index)", organisationID: "met", source: .topUp, credits: credits(amount),
                price: Money(minorUnits: 100 * Int64(index + 1), currency: .gbp),
                effectiveAt: instant("2026-11-0\(index + 1)T10:00:00Z"),
                references: TransferReferences(revolutOrderID: "order-\(index)")))
        }
    }

    /// `configuration` with `grantThree` on a SQLite ledger (`SampleWorld.ledger`'s clock).
    func makeLedger() throws -> LedgerDatabase {
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"), clock: TestClock().provider)
        try ledger.write { tx in
            _ = try tx.load(Self.configuration)
            try Self.grantThree(tx)
        }
        return ledger
    }

    struct Keys {
        let met: String
        let gmp: String
        let admin: String
    }

    /// `makeLedger`'s world on `store`, served, with a key for each organisation and an admin key.
    func withLedgerService(
        _ store: StoreKind, auditSigningKey: AuditSigningKey? = nil,
        _ body: (ServiceHTTPTests.Harness, Keys) async throws -> Void
    ) async throws {
        // The clock `makeLedger`'s ledger has.
        try await withLiveLedger(store, in: directory, configuration: Self.configuration, clock: TestClock().provider) { ledger in
            try await ledger.write(as: .tests) { try Self.grantThree($0) }
            let keys = Keys(
                met: try await LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "test"),
                gmp: try await LedgerAPIKeyStore.issue(in: ledger, organisationID: "gmp", label: "test"),
                admin: try await LedgerAPIKeyStore.issue(in: ledger, organisationID: nil, label: "admin"))
            try await Self.serve(ledger, name: "ledger-service", auditSigningKey: auditSigningKey) { try await body($0, keys) }
        }
    }

    /// Runs the real service over `ledger` on a loopback port for the length of `body`.
    static func serve(
        _ ledger: any LiveLedger, name: String, limits: GraphQLLimits = GraphQLLimits(),
        eventLoopGroup: (any EventLoopGroup)? = nil, auditSigningKey: AuditSigningKey? = nil,
        _ body: (ServiceHTTPTests.Harness) async throws -> Void
    ) async throws {
        var configuration = ServiceConfiguration()
        configuration.port = 0
        let metrics = MetricsRegistry()
        let now: NowProvider = { instant("2026-11-24T12:00:00Z") }
        let dependencies = ServiceDependencies(
            keyStore: LedgerAPIKeyStore(ledger: ledger), metrics: metrics, now: now,
            graphQL: try LedgerSchema.endpoint(
                ledger: ledger, now: now, limits: limits, metrics: metrics, auditSigningKey: auditSigningKey))
        try await withLiveApplication({ onRunning in
            try CreditsServer.makeApplication(
                configuration: configuration, dependencies: dependencies, logger: quietLogger(name),
                eventLoopGroup: eventLoopGroup,
                onServerRunning: onRunning)
        }) { port in
            try await body(ServiceHTTPTests.Harness(base: URL(string: "http://127.0.0.1:\(port)")!, metrics: metrics))
        }
    }

    static func query(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["query": text]), as: UTF8.self)
    }

    @Test func testStoredKeysResolveAndRevokedKeysDoNot() async throws {
        let ledger = try makeLedger()
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "laptop", by: .tests)
        let admin = try LedgerAPIKeyStore.issue(in: ledger, organisationID: nil, label: "ops", by: .tests)
        let store = LedgerAPIKeyStore(ledger: ledger)
        let hash = try #require(APIKey.hash(presented: key))
        #expect(try await store.principal(for: hash) == .organisation(id: "met"))
        #expect(try await store.principal(for: try #require(APIKey.hash(presented: admin))) == .platformAdmin)
        #expect(try await store.principal(for: APIKey.generate().hash) == nil)
        let revoked = try await ledger.write { try $0.revokeAPIKey(hash: hash.hex) }
        #expect(revoked)
        #expect(try await store.principal(for: hash) == nil)
        #expect(throws: PostingRejection.organisationNotFound("nope")) {
            try LedgerAPIKeyStore.issue(in: ledger, organisationID: "nope", label: "", by: .tests)
        }
        let stored = try String.fetchAllHashes(ledger)
        #expect(!stored.joined().contains(key))
        #expect(stored.contains { $0.hasPrefix(hash.hex) })
    }

    @Test func testRevokedKeyIs401AtOnce() async throws {
        let ledger = try makeLedger()
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "leaked", by: .tests)
        var configuration = ServiceConfiguration()
        configuration.port = 0
        let dependencies = ServiceDependencies(keyStore: LedgerAPIKeyStore(ledger: ledger))
        try await withLiveApplication({ onRunning in
            try CreditsServer.makeApplication(
                configuration: configuration, dependencies: dependencies, logger: quietLogger("revoke"),
                onServerRunning: onRunning)
        }) { port in
            let service = ServiceHTTPTests.Harness(
                base: URL(string: "http://127.0.0.1:\(port)")!, metrics: dependencies.metrics)
            #expect(try await service.graphQL(Self.query("{ health }"), key: key).status == 200)
            let hash = try #require(APIKey.hash(presented: key)).hex
            #expect(try await ledger.write { try $0.revokeAPIKey(hash: hash) })
            let revoked = try await service.graphQL(Self.query("{ health }"), key: key)
            try ServiceHTTPTests.expectProblem(revoked, status: 401)
        }
    }

    @Test(arguments: StoreKind.available) func testCreditBalanceAndIsolation(_ store: StoreKind) async throws {
        try await withLedgerService(store) { service, keys in
            let balance = "{ creditBalance(organisationId: \"met\") "
                + "{ organisationId available reserved spendable currency asOf } }"
            let own = try await service.graphQL(Self.query(balance), key: keys.met)
            #expect(own.text == #"{"data":{"creditBalance":{"organisationId":"met","available":"150","reserved":"100","#
                + #""spendable":"50","currency":"GBP","asOf":"2026-11-24T12:00:00.000Z"}}}"#)
            #expect(try await service.graphQL(Self.query(balance), key: keys.admin).text == own.text)
            // As it stood after the first two grants (1 and 2 November, 10:00), with the reservation configured then.
            let past = try await service.graphQL(Self.query(
                #"{ creditBalance(organisationId: "met", asOf: "2026-11-02T10:00:00Z") { available reserved asOf } }"#),
                key: keys.met)
            #expect(past.text == #"{"data":{"creditBalance":{"available":"110","reserved":"100","#
                + #""asOf":"2026-11-02T10:00:00.000Z"}}}"#, "\(past.text)")

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

    @Test(arguments: StoreKind.available) func testTransactionsPageWithCursorsAndFilters(_ store: StoreKind) async throws {
        try await withLedgerService(store) { service, keys in
            let first = try await service.graphQL(Self.query(
                "{ transactions(organisationId: \"met\", first: 2) { edges { cursor node { kind credits "
                    + "money { minorUnits currency } "
                    + "revolutOrderId effectiveAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"),
                key: keys.met)
            let page = try #require(
                (try first.json()["data"] as? [String: Any])?["transactions"] as? [String: Any], "\(first.text)")
            let edges = try #require(page["edges"] as? [[String: Any]])
            #expect(edges.count == 2)
            #expect((edges[0]["node"] as? [String: Any])?["credits"] as? String == "50")
            #expect((edges[0]["node"] as? [String: Any])?["revolutOrderId"] as? String == "order-0")
            #expect((edges[0]["node"] as? [String: Any])?["money"] as? [String: String]
                == ["minorUnits": "100", "currency": "GBP"])
            let pageInfo = try #require(page["pageInfo"] as? [String: Any])
            #expect(pageInfo["hasNextPage"] as? Bool == true)
            #expect(pageInfo["hasPreviousPage"] as? Bool == false)
            #expect(pageInfo["startCursor"] as? String == edges[0]["cursor"] as? String)
            let cursor = try #require(pageInfo["endCursor"] as? String)
            #expect(cursor == edges[1]["cursor"] as? String)

            let rest = try await service.graphQL(Self.query(
                "{ transactions(organisationId: \"met\", first: 2, after: \"\(cursor)\") { edges { cursor node { credits } } "
                    + "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"), key: keys.met)
            let last = try #require(
                (try rest.json()["data"] as? [String: Any])?["transactions"] as? [String: Any], "\(rest.text)")
            let lastCursor = try #require((last["edges"] as? [[String: Any]])?.first?["cursor"] as? String)
            #expect(rest.text == #"{"data":{"transactions":{"edges":[{"cursor":"\#(lastCursor)","node":{"credits":"40"}}],"#
                + #""pageInfo":{"hasNextPage":false,"hasPreviousPage":true,"startCursor":"\#(lastCursor)","#
                + #""endCursor":"\#(lastCursor)"}}}}"#)

            let ranged = try await service.graphQL(Self.query(
                "{ transactions(organisationId: \"met\", from: \"2026-11-02T00:00:00Z\", to: \"2026-11-03T00:00:00Z\", "
                    + "kinds: [TOP_UP]) { edges { node { credits } } } }"), key: keys.met)
            #expect(ranged.text == #"{"data":{"transactions":{"edges":[{"node":{"credits":"60"}}]}}}"#)

            // A cursor is opaque: the transfer id behind it (`t<id>`, the old form) is not one, nor is a
            // cursor of another connection; a DateTime needs an offset.
            let otherConnection = PageCursor.configurationChange.encode(1)
            for bad in [
                "first: 0", "first: 101", "after: \"zz\"", "after: \"t1\"", "after: \"\(otherConnection)\"",
                "kinds: [GIFT]", "kinds: [\"top_up\"]", "from: \"yesterday\"", "from: \"2026-11-02T00:00:00\"",
            ] {
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
            == .refuse(SpendRefusal(rule: .reserveFloor, scope: .organisation("met"), requested: credits("51"), spendable: credits("50")), priority: nil))
        #expect(try await gate.decide(
            SpendIntent(organisationID: "met", investigationID: "op-urgent", credits: credits("150"))) == .allow)
        #expect(try await gate.decide(
            SpendIntent(organisationID: "met", investigationID: "op-routine", credits: credits("120")))
            == .refuse(SpendRefusal(rule: .reserveFloor, scope: .organisation("met"), requested: credits("120"), spendable: credits("50")), priority: 3))
        #expect(try await gate.decide(SpendIntent(organisationID: "gmp"))
            == .refuse(SpendRefusal(rule: .insufficientBalance, scope: .organisation("gmp"), requested: Credits(microcredits: 1), spendable: .zero), priority: nil))
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

extension LedgerBackedTests {
    /// Queries and mutations naming organisation `met`, for the isolation matrix.
    static let everyOperation: [String] = [
        #"{ creditBalance(organisationId: "met") { available } }"#,
        #"{ transactions(organisationId: "met") { edges { cursor } } }"#,
        #"{ creditPackages(organisationId: "met") { id } }"#,
        #"{ organisation(organisationId: "met") { name } }"#,
        #"{ usage(organisationId: "met", from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z", "#
            + #"groupBy: TEAM) { key } }"#,
        #"mutation { purchaseCreditPackage(input: {organisationId: "met", packageId: "p", idempotencyKey: "k"}) "#
            + "{ purchase { reference } userErrors { code field message } } }",
        #"mutation { allocateCredits(input: {organisationId: "met", credits: "5", idempotencyKey: "a"}) "#
            + "{ transaction { id } } }",
        #"mutation { topUpCredits(input: {organisationId: "met", credits: "5", idempotencyKey: "t"}) "#
            + "{ transaction { id } } }",
        #"mutation { adjustCredits(input: {organisationId: "met", credits: "5", idempotencyKey: "j", memo: "m"}) "#
            + "{ transaction { id } } }",
        #"mutation { setReservation(input: {organisationId: "met", reservationId: "r", credits: "0", "#
            + #"maxPriority: 1, idempotencyKey: "r"}) { organisation { id } } }"#,
        #"mutation { setLowBalanceThresholds(input: {organisationId: "met", runwayDays: 3, idempotencyKey: "s"}) "#
            + "{ organisation { id } } }",
    ]

    @Test(arguments: StoreKind.available) func testIsolationMatrixAnotherOrganisationsKeyGetsNothing(_ store: StoreKind) async throws {
        try await withLedgerService(store) { service, keys in
            let before = try await service.graphQL(
                Self.query(#"{ creditBalance(organisationId: "met") { available } }"#), key: keys.admin).text
            for operation in Self.everyOperation {
                let answer = try await service.graphQL(Self.query(operation), key: keys.gmp)
                #expect(answer.status == 200)
                let json = try answer.json()
                if operation.contains("purchaseCreditPackage") {
                    // The buyer's own mutation: a user error, the same as for an organisation that does not exist.
                    #expect(answer.text == #"{"data":{"purchaseCreditPackage":{"purchase":null,"userErrors":[{"#
                        + #""code":"organisationNotFound","field":["input","organisationId"],"#
                        + #""message":"Organisation not found."}]}}}"#)
                    continue
                }
                #expect(json["data"] == nil || json["data"] is NSNull, "\(operation): \(answer.text)")
                let message = ((json["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
                #expect(
                    message == "Organisation not found." || message == "This operation needs a platform-admin key.",
                    "\(operation): \(answer.text)")
            }
            let after = try await service.graphQL(
                Self.query(#"{ creditBalance(organisationId: "met") { available } }"#), key: keys.admin).text
            #expect(before == after)
        }
    }

    @Test(arguments: StoreKind.available) func testAdminMutationsAreIdempotentAndAdminOnly(_ store: StoreKind) async throws {
        try await withLedgerService(store) { service, keys in
            let allocate = #"mutation { allocateCredits(input: {organisationId: "met", credits: "100", "#
                + #"idempotencyKey: "a1", memo: "annual allocation"}) { transaction { id kind credits } "#
                + "userErrors { code field message } } }"
            let first = try await service.graphQL(Self.query(allocate), key: keys.admin)
            #expect(first.text.contains(#""kind":"ALLOCATION","credits":"100"}"#), "\(first.text)")
            // The audit trail names the administrator's key, in the ledger and in the API.
            let adminKeyID = try #require(APIKey.hash(presented: keys.admin)?.id)
            let allocation = try await service.graphQL(
                Self.query(#"{ transactions(organisationId: "met", first: 100) { edges { node { actor } } } }"#),
                key: keys.met)
            #expect(allocation.text.contains(#""actor":"key:\#(adminKeyID)""#), "\(allocation.text)")
            // The balance before and after it: the three grants of 150, then this allocation of 100.
            let chained = try await service.graphQL(Self.query(
                #"{ transactions(organisationId: "met", first: 100) { edges { node { balanceBefore balanceAfter } } } }"#),
                key: keys.met)
            #expect(chained.text.hasSuffix(#"{"node":{"balanceBefore":"150","balanceAfter":"250"}}]}}}"#), "\(chained.text)")
            #expect(first.text.hasSuffix(#""userErrors":[]}}}"#), "\(first.text)")
            let retry = try await service.graphQL(Self.query(allocate), key: keys.admin)
            #expect(retry.text == first.text)
            // Expected refusals are the payload's user errors, coded with the ledger's own rejection codes.
            let reused = try await service.graphQL(
                Self.query(allocate.replacingOccurrences(of: "\"100\"", with: "\"200\"")), key: keys.admin)
            #expect(reused.text.hasPrefix(#"{"data":{"allocateCredits":{"transaction":null,"userErrors":[{"#
                + #""code":"idempotencyKeyReusedWithDifferentContent","field":["input","idempotencyKey"],"#
                + #""message":"idempotency key a1 was already used for transfer"#), "\(reused.text)")
            let unknown = try await service.graphQL(
                Self.query(allocate.replacingOccurrences(of: "\"met\"", with: "\"nope\"")), key: keys.admin)
            #expect(unknown.text == #"{"data":{"allocateCredits":{"transaction":null,"userErrors":[{"#
                + #""code":"organisationNotFound","field":["input","organisationId"],"#
                + #""message":"Organisation not found."}]}}}"#)
            // Not the caller's to correct: a GraphQL error with extensions.code.
            let byOrg = try await service.graphQL(Self.query(allocate), key: keys.met)
            #expect(byOrg.text.contains("needs a platform-admin key") && byOrg.text.contains(#""code":"FORBIDDEN""#))

            let noMemo = try await service.graphQL(Self.query(
                #"mutation { adjustCredits(input: {organisationId: "met", credits: "-30", idempotencyKey: "j1"}) "#
                    + "{ transaction { id } userErrors { code field message } } }"),
                key: keys.admin)
            #expect(noMemo.text == #"{"data":{"adjustCredits":{"transaction":null,"userErrors":[{"#
                + #""code":"reasonRequired","field":["input","memo"],"#
                + #""message":"an administrator's posting needs a reason (memo) saying why it is made"}]}}}"#)
            let adjust = try await service.graphQL(Self.query(
                #"mutation { adjustCredits(input: {organisationId: "met", credits: "-30", idempotencyKey: "j1", "#
                    + #"memo: "duplicate charge"}) { transaction { kind credits memo } userErrors { code } } }"#),
                key: keys.admin)
            #expect(adjust.text == #"{"data":{"adjustCredits":{"transaction":{"kind":"ADJUSTMENT","credits":"-30","#
                + #""memo":"duplicate charge"},"userErrors":[]}}}"#)
            let topUp = try await service.graphQL(Self.query(
                #"mutation { topUpCredits(input: {organisationId: "met", credits: "10", idempotencyKey: "t1", "#
                    + #"priceMinorUnits: "450", memo: "paid by invoice"}) { transaction { kind credits money { minorUnits currency } } } }"#),
                key: keys.admin)
            #expect(topUp.text == #"{"data":{"topUpCredits":{"transaction":{"kind":"TOP_UP","credits":"10","#
                + #""money":{"minorUnits":"450","currency":"GBP"}}}}}"#)
            let negativePrice = try await service.graphQL(Self.query(
                #"mutation { topUpCredits(input: {organisationId: "met", credits: "10", idempotencyKey: "t2", "#
                    + #"priceMinorUnits: "-1", memo: "m"}) { userErrors { code field } } }"#), key: keys.admin)
            #expect(negativePrice.text == #"{"data":{"topUpCredits":{"userErrors":[{"code":"priceMalformed","#
                + #""field":["input","priceMinorUnits"]}]}}}"#)
            let balance = try await service.graphQL(
                Self.query(#"{ creditBalance(organisationId: "met") { available } }"#), key: keys.met)
            #expect(balance.text == #"{"data":{"creditBalance":{"available":"230"}}}"#)
        }
    }

    @Test(arguments: StoreKind.available) func testSetReservationAndThresholds(_ store: StoreKind) async throws {
        try await withLedgerService(store) { service, keys in
            let reserve = #"mutation { setReservation(input: {organisationId: "met", reservationId: "p1-floor", "#
                + #"credits: "120", maxPriority: 2, idempotencyKey: "r1"}) "#
                + "{ organisation { reservations { id credits maxPriority } } userErrors { code field message } } }"
            let set = try await service.graphQL(Self.query(reserve), key: keys.admin)
            #expect(set.text == #"{"data":{"setReservation":{"organisation":{"reservations":[{"id":"p1-floor","#
                + #""credits":"120","maxPriority":2}]},"userErrors":[]}}}"#)
            let balance = try await service.graphQL(
                Self.query(#"{ creditBalance(organisationId: "met") { reserved spendable } }"#), key: keys.met)
            #expect(balance.text == #"{"data":{"creditBalance":{"reserved":"120","spendable":"30"}}}"#)

            let thresholds = #"mutation { setLowBalanceThresholds(input: {organisationId: "met", "#
                + #"lowBalanceCredits: "25", runwayDays: 7, idempotencyKey: "t1"}) "#
                + "{ organisation { lowBalanceCredits lowBalancePercent runwayDays } } }"
            let updated = try await service.graphQL(Self.query(thresholds), key: keys.admin)
            #expect(updated.text == #"{"data":{"setLowBalanceThresholds":{"organisation":{"lowBalanceCredits":"25","#
                + #""lowBalancePercent":null,"runwayDays":7}}}}"#)
            let outOfRange = try await service.graphQL(Self.query(
                thresholds.replacingOccurrences(of: "runwayDays: 7", with: "runwayDays: 4000")
                    .replacingOccurrences(of: "{ organisation {", with: "{ userErrors { code field } organisation {")),
                key: keys.admin)
            #expect(outOfRange.text == #"{"data":{"setLowBalanceThresholds":{"userErrors":[{"#
                + #""code":"thresholdOutOfRange","field":["input","runwayDays"]}],"organisation":null}}}"#)
            #expect(try await service.graphQL(Self.query(thresholds), key: keys.met).text.contains("platform-admin"))

            // A new change needs a new idempotency key: "r1" now names the change to 120.
            let remove = reserve.replacingOccurrences(of: "\"120\"", with: "\"0\"")
                .replacingOccurrences(of: "\"r1\"", with: "\"r2\"")
            let removed = try await service.graphQL(Self.query(remove), key: keys.admin)
            #expect(removed.text.contains(#""reservations":[]"#))
            let bad = try await service.graphQL(
                Self.query(reserve.replacingOccurrences(of: "maxPriority: 2", with: "maxPriority: 5")), key: keys.admin)
            #expect(bad.text == #"{"data":{"setReservation":{"organisation":null,"userErrors":[{"#
                + #""code":"maxPriorityOutOfRange","field":["input","maxPriority"],"#
                + #""message":"maxPriority must be 1 to 4."}]}}}"#)
            let negative = try await service.graphQL(
                Self.query(reserve.replacingOccurrences(of: "\"120\"", with: "\"-1\"")), key: keys.admin)
            #expect(negative.text.contains(#""code":"creditsMustNotBeNegative","field":["input","credits"]"#))
            let unknown = try await service.graphQL(
                Self.query(reserve.replacingOccurrences(of: "\"met\"", with: "\"nope\"")), key: keys.admin)
            #expect(unknown.text == #"{"data":{"setReservation":{"organisation":null,"userErrors":[{"#
                + #""code":"organisationNotFound","field":["input","organisationId"],"#
                + #""message":"Organisation not found."}]}}}"#)
        }
    }

    @Test func testOrganisationSettingsAndUsageGroups() async throws {
        let ledger = try makeLedger()
        try await ledger.write { tx in
            for (key, team, operation, day, amount) in [
                ("u1", "analysis", "ocr", "2026-11-10", "5"), ("u2", "analysis", "llm", "2026-11-10", "7"),
                ("u3", "field", "ocr", "2026-11-11", "3"),
            ] {
                _ = try tx.spend(SpendRequest(
                    idempotencyKey: key, organisationID: "met", credits: credits(amount),
                    effectiveAt: instant("\(day)T12:00:00Z"), priority: .p1, policy: .withinSpendable,
                    references: TransferReferences(costEventID: key, team: team, operation: operation)))
            }
        }
        let key = try LedgerAPIKeyStore.issue(in: ledger, organisationID: "met", label: "t", by: .tests)
        let metrics = MetricsRegistry()
        let endpoint = try LedgerSchema.endpoint(
            ledger: ledger, now: { instant("2026-11-24T12:00:00Z") }, limits: GraphQLLimits(), metrics: metrics)
        var configuration = ServiceConfiguration()
        configuration.port = 0
        let dependencies = ServiceDependencies(keyStore: LedgerAPIKeyStore(ledger: ledger), graphQL: endpoint)
        try await withLiveApplication({ onRunning in
            try CreditsServer.makeApplication(
                configuration: configuration, dependencies: dependencies, logger: quietLogger("usage"),
                onServerRunning: onRunning)
        }) { port in
            let service = ServiceHTTPTests.Harness(base: URL(string: "http://127.0.0.1:\(port)")!, metrics: metrics)
            let range = #"from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z""#
            let byTeam = try await service.graphQL(Self.query(
                #"{ usage(organisationId: "met", \#(range), groupBy: TEAM) { key credits deductions } }"#), key: key)
            #expect(byTeam.text == #"{"data":{"usage":[{"key":"analysis","credits":"12","deductions":2},"#
                + #"{"key":"field","credits":"3","deductions":1}]}}"#)
            let byDay = try await service.graphQL(Self.query(
                #"{ usage(organisationId: "met", \#(range), groupBy: DAY) { key credits } }"#), key: key)
            #expect(byDay.text == #"{"data":{"usage":[{"key":"2026-11-10","credits":"12"},"#
                + #"{"key":"2026-11-11","credits":"3"}]}}"#)
            // As it stood at the end of 10 November: u3 (the 11th) had not happened; the grants then had
            // 50 + 60 + 40 less u1 and u2's 12 credits, burnt from the first grant.
            let asOf = #"asOf: "2026-11-10T23:59:59.999Z""#
            let teamAsOf = try await service.graphQL(Self.query(
                #"{ usage(organisationId: "met", \#(range), groupBy: TEAM, \#(asOf)) { key credits deductions } }"#), key: key)
            #expect(teamAsOf.text == #"{"data":{"usage":[{"key":"analysis","credits":"12","deductions":2}]}}"#)
            let grantsAsOf = try await service.graphQL(Self.query(
                #"{ grants(organisationId: "met", \#(asOf)) { credits remaining } }"#), key: key)
            #expect(grantsAsOf.text == #"{"data":{"grants":[{"credits":"50","remaining":"38"},"#
                + #"{"credits":"60","remaining":"60"},{"credits":"40","remaining":"40"}]}}"#)
            let beforeTheThird = try await service.graphQL(Self.query(
                #"{ grants(organisationId: "met", asOf: "2026-11-02T12:00:00Z") { remaining } }"#), key: key)
            #expect(beforeTheThird.text == #"{"data":{"grants":[{"remaining":"50"},{"remaining":"60"}]}}"#)
            let dayAsOf = try await service.graphQL(Self.query(
                #"{ usage(organisationId: "met", \#(range), groupBy: DAY, \#(asOf)) { key } }"#), key: key)
            #expect(dayAsOf.text.contains("not DAY"), "\(dayAsOf.text)")
            // The shared Runway rule: deductions in the 14 days up to now, (11-10T12:00, 11-24T12:00], are
            // u3's 3 credits (u1 and u2 fall on the window's open start); 135 available, 35 spendable
            // beyond the P1 floor: 35 x 14 / 3 = 163.3 days, rounded down.
            let runway = try await service.graphQL(
                Self.query(#"{ creditBalance(organisationId: "met") { spendable runwayDays } }"#), key: key)
            #expect(runway.text == #"{"data":{"creditBalance":{"spendable":"35","runwayDays":163}}}"#)
            let settings = try await service.graphQL(Self.query(
                #"{ organisation(organisationId: "met") { currency timeZone "#
                    + "reservations { id credits maxPriority } } }"),
                key: key)
            #expect(settings.text == #"{"data":{"organisation":{"currency":"GBP","timeZone":"Europe/London","#
                + #""reservations":[{"id":"p1-floor","credits":"100","maxPriority":1}]}}}"#)
        }
    }
}

extension LedgerAPIKeyStore {
    /// `issue` on a live ledger of either store: a PostgreSQL one through a connection of its own, as
    /// `credits keys create` issues it beside a running service.
    static func issue(in ledger: any LiveLedger, organisationID: String?, label: String) async throws -> String {
        switch ledger {
        case let sqlite as LedgerDatabase:
            return try issue(in: sqlite, organisationID: organisationID, label: label, by: .tests)
        case let postgres as PostgresLiveLedger:
            return try await onOwnThread {
                try PostgresStore.using(postgres.location, clock: { postgres.now }) {
                    try issue(in: $0, organisationID: organisationID, label: label, by: .tests)
                }
            }
        default:
            preconditionFailure("a live ledger is on SQLite or PostgreSQL")
        }
    }
}
