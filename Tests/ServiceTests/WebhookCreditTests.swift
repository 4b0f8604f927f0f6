import Foundation
import Synchronization
import Testing
import TestSupport

@testable import Ledger
@testable import Service

/// Webhook to ledger, end to end on loopback: verified delivery, order fetched from the Revolut stub,
/// one top-up however often and however concurrently it is delivered (I11, F5).
@Suite struct WebhookCreditTests {
    static let secret = "wsk_test_Cr3d1tsL3dg3rNewK3y7Qp2Zr9Xv4Mb8N"
    static let now = instant("2026-11-24T12:00:00Z")
    let directory = TemporaryDirectory("service-webhook")

    static func configuration() -> Configuration {
        var configuration = SampleWorld.configuration([SampleWorld.organisation("met")])
        configuration.packages = [
            CreditPackage(
                id: "pack_10k", name: "10,000 credits", credits: credits("10000"),
                prices: [Money(minorUnits: 45_000, currency: .gbp), Money(minorUnits: 52_000, currency: .eur)],
                expiresAfterDays: 365),
            CreditPackage(
                id: "pack_5k", name: "5,000 credits", credits: credits("5000"),
                prices: [Money(minorUnits: 28_000, currency: .eur)], expiresAfterDays: nil),
        ]
        return configuration
    }

    struct Harness {
        let service: ServiceHTTPTests.Harness
        let stub: RevolutStub
        let client: RevolutClient
        let ledger: any LiveLedger

        /// Posts a correctly signed delivery for `event` and `orderID`.
        func deliver(_ event: String, orderID: String) async throws -> HTTPAnswer {
            let body = #"{"event":"\#(event)","order_id":"\#(orderID)","merchant_order_ext_ref":"ref-1"}"#
            let timestamp = "\(WebhookCreditTests.now.millisecondsSinceEpoch)"
            let signature = WebhookSignatureTests.sign(WebhookCreditTests.secret, timestamp: timestamp, body: body)
            return try await send(
                "POST", service.url("webhooks/revolut"),
                headers: [
                    "Revolut-Signature": signature,
                    "Revolut-Request-Timestamp": timestamp, "Content-Type": "application/json",
                ],
                body: Data(body.utf8))
        }

        func order(amount: Int64 = 45_000, currency: Currency = .gbp, package: String = "pack_10k") async throws
            -> RevolutOrder
        {
            try await client.createOrder(RevolutOrderRequest(
                amount: Money(minorUnits: amount, currency: currency), description: "credits",
                reference: "ref-\(UUID().uuidString.prefix(8))", organisationID: "met", packageID: package))
        }

        /// Runs `purchaseCreditPackage` with `apiKey` (default: organisation `met`'s key).
        func purchase(
            _ organisationID: String = "met", package: String = "pack_10k", key: String,
            apiKey: String = ServiceHTTPTests.metKey.key
        ) async throws
            -> HTTPAnswer
        {
            let mutation = "mutation { purchaseCreditPackage(input: {organisationId: \"\(organisationID)\", "
                + "packageId: \"\(package)\", idempotencyKey: \"\(key)\"}) { purchase { reference orderId checkoutUrl "
                + "credits amount { minorUnits currency } } userErrors { code field message } } }"
            return try await service.graphQL(LedgerBackedTests.query(mutation), key: apiKey)
        }

        func outcomes(_ outcome: String) -> Int64 {
            service.metrics.counterValue(ServiceMetrics.webhookDeliveries, labels: [Label("outcome", outcome)])
        }
    }

    func withHarness(_ store: StoreKind, _ body: (Harness) async throws -> Void) async throws {
        try await withLiveLedger(store, in: directory, configuration: Self.configuration()) { ledger in
            let stub = RevolutStub()
            try await stub.run { url in
                let client = RevolutClientTests.client(url)
                var configuration = ServiceConfiguration()
                configuration.port = 0
                configuration.webhookSecrets = [Self.secret]
                let metrics = MetricsRegistry()
                let handler = LedgerWebhookHandler(
                    ledger: ledger, revolut: client, now: { Self.now }, logger: quietLogger("webhook"))
                let endpoint = try LedgerSchema.endpoint(
                    ledger: ledger, now: { Self.now }, limits: GraphQLLimits(), metrics: metrics, revolut: client)
                let dependencies = ServiceDependencies(
                    keyStore: ServiceHTTPTests.store, metrics: metrics, now: { Self.now }, webhookHandler: handler,
                    graphQL: endpoint)
                try await withLiveApplication({ onRunning in
                    try CreditsServer.makeApplication(
                        configuration: configuration, dependencies: dependencies, logger: quietLogger("service"),
                        onServerRunning: onRunning)
                }) { port in
                    let service = ServiceHTTPTests.Harness(base: URL(string: "http://127.0.0.1:\(port)")!, metrics: metrics)
                    try await body(Harness(service: service, stub: stub, client: client, ledger: ledger))
                }
            }
        }
    }

    @Test(arguments: StoreKind.available) func testConcurrentDuplicateDeliveriesCreditOnce(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let order = try await harness.order()
            harness.stub.setState("completed", orderID: order.id)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await harness.deliver("ORDER_COMPLETED", orderID: order.id).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 204, count: 10))
            #expect(harness.outcomes("processed") == 1)
            #expect(harness.outcomes("duplicate") == 9)
            let (balance, topUp) = try await harness.ledger.read { reader in
                (try reader.balance(of: "met"), try reader.topUp(forRevolutOrder: order.id))
            }
            #expect(balance.available == credits("10000"))
            #expect(topUp?.idempotencyKey == IdempotencyKey.topUp(revolutOrderID: order.id))
            // Effective when Revolut completed it (the stub's updated_at), as the batch path would post it.
            #expect(topUp?.effectiveAt == instant("2026-01-01T00:00:00Z"))
            #expect(topUp?.money == Money(minorUnits: 45_000, currency: .gbp))
            #expect(topUp?.actor == .revolutWebhook)
            let report = try await verification(of: harness.ledger)
            #expect(report.passed)
            let observations = try await harness.ledger.read { try $0.observations(ofOrder: order.id) }
            #expect(observations.count == 1)
            #expect(observations.first?.source == "webhook")
            #expect(observations.first?.state == .completed)
            #expect(observations.first?.organisationID == "met")
        }
    }

    @Test(arguments: StoreKind.available) func testRecordedPurchaseIsWhatWasAgreed(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            // Sold at an older price: the purchase, not today's package price, decides.
            let order = try await harness.order(amount: 40_000)
            let reference = try #require(order.merchantReference)
            try await harness.ledger.write(as: .tests) { tx in
                try tx.recordPurchase(Purchase(
                    reference: reference, organisationID: "met", packageID: "pack_10k", credits: credits("10000"),
                    price: Money(minorUnits: 40_000, currency: .gbp), createdAt: WebhookCreditTests.now))
            }
            harness.stub.setState("completed", orderID: order.id)
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: order.id).status == 204)
            let topUp = try await harness.ledger.read { try $0.topUp(forRevolutOrder: order.id) }
            #expect(topUp?.money == Money(minorUnits: 40_000, currency: .gbp))

            // A purchase already tied to another order does not vouch for a second order with its reference.
            let other = try await harness.order()
            try await harness.ledger.write(as: .tests) { tx in
                try tx.recordPurchase(Purchase(
                    reference: other.merchantReference!, organisationID: "met", packageID: "pack_10k",
                    credits: credits("10000"), price: Money(minorUnits: 45_000, currency: .gbp),
                    revolutOrderID: "some-other-order", createdAt: WebhookCreditTests.now))
            }
            harness.stub.setState("completed", orderID: other.id)
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: other.id).status == 204)
            #expect(harness.outcomes("needs_review") == 1)
        }
    }

    @Test(arguments: StoreKind.available) func testOrderAlreadyCreditedByTheBatchPathIsADuplicate(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let order = try await harness.order()
            harness.stub.setState("completed", orderID: order.id)
            // Reconcile/apply credited it first, through the same ledger call, at another effective time.
            try await harness.ledger.write(as: .tests) { tx in
                _ = try tx.creditCompletedOrder(CompletedOrder(
                    orderID: order.id, organisationID: "met", packageID: "pack_10k", credits: credits("10000"),
                    price: Money(minorUnits: 45_000, currency: .gbp), completedAt: instant("2026-01-02T00:00:00Z"),
                    expiresAt: nil))
            }
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: order.id).status == 204)
            #expect(harness.outcomes("duplicate") == 1)
            #expect(try await harness.ledger.read { try $0.balance(of: "met").available } == credits("10000"))
        }
    }

    @Test(arguments: StoreKind.available) func testOrderNotYetCompletedAsksForRedelivery(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let order = try await harness.order()
            let early = try await harness.deliver("ORDER_COMPLETED", orderID: order.id)
            #expect(early.status == 503)
            harness.stub.setState("completed", orderID: order.id)
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: order.id).status == 204)
            #expect(try await harness.ledger.read { try $0.balance(of: "met").available } == credits("10000"))
        }
    }

    @Test(arguments: StoreKind.available) func testMismatchedOrdersAreNotCredited(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let cheap = try await harness.order(amount: 100)
            let wrongCurrency = try await harness.order(amount: 52_000, currency: .eur)
            let unknownPackage = try await harness.order(package: "pack_free")
            for order in [cheap, wrongCurrency, unknownPackage] {
                harness.stub.setState("completed", orderID: order.id)
                #expect(try await harness.deliver("ORDER_COMPLETED", orderID: order.id).status == 204)
            }
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: "no-such-order").status == 204)
            #expect(harness.outcomes("needs_review") == 4)
            #expect(try await harness.ledger.read { try $0.balance(of: "met").available } == .zero)
        }
    }

    @Test(arguments: StoreKind.available) func testOtherAndUnknownEventsAreAcknowledgedWithoutEffect(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let order = try await harness.order()
            harness.stub.setState("completed", orderID: order.id)
            for event in ["ORDER_AUTHORISED", "ORDER_PAYMENT_DECLINED", "SOMETHING_NEW"] {
                #expect(try await harness.deliver(event, orderID: order.id).status == 204)
            }
            #expect(harness.outcomes("ignored") == 3)
            #expect(try await harness.ledger.read { try $0.balance(of: "met").available } == .zero)
            #expect(harness.stub.requests.filter { $0.method == "GET" }.isEmpty)
        }
    }

    @Test(arguments: StoreKind.available) func testRevolutOutageAsksForRedelivery(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let order = try await harness.order()
            harness.stub.setState("completed", orderID: order.id)
            for _ in 0..<3 {
                harness.stub.enqueue(.status(503, retryAfter: nil, afterProcessing: false), for: .retrieve)
            }
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: order.id).status == 503)
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: order.id).status == 204)
            #expect(harness.outcomes("retry_later") == 1)
            #expect(harness.outcomes("processed") == 1)
        }
    }

    @Test func testWithoutCredentialsCompletedOrdersAreDeferred() async throws {
        let handler = DeferringWebhookHandler()
        await #expect(throws: WebhookRetryLater.self) {
            try await handler.handle(
                RevolutWebhookEvent(event: "ORDER_COMPLETED", orderID: "o", merchantOrderReference: nil))
        }
        let other = RevolutWebhookEvent(event: "ORDER_AUTHORISED", orderID: "o", merchantOrderReference: nil)
        #expect(try await handler.handle(other) == .ignored)
    }
}

/// `purchaseCreditPackage` and `creditPackages` against the Revolut stub, then the webhook that pays it.
extension WebhookCreditTests {
    static func purchaseResult(_ answer: HTTPAnswer) throws -> [String: Any] {
        let data = try #require(try answer.json()["data"] as? [String: Any], "\(answer.text)")
        let payload = try #require(data["purchaseCreditPackage"] as? [String: Any], "\(answer.text)")
        #expect((payload["userErrors"] as? [Any])?.isEmpty == true, "\(answer.text)")
        return try #require(payload["purchase"] as? [String: Any], "\(answer.text)")
    }

    @Test(arguments: StoreKind.available) func testPurchaseCreatesOneOrderAndTheWebhookCreditsIt(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let first = try Self.purchaseResult(try await harness.purchase(key: "basket-1"))
            let orderID = try #require(first["orderId"] as? String)
            #expect((first["checkoutUrl"] as? String)?.hasPrefix("https://checkout.stub/") == true)
            #expect(first["amount"] as? [String: String] == ["minorUnits": "45000", "currency": "GBP"])
            let reference = try #require(first["reference"] as? String)
            #expect(reference.hasPrefix("cpk_"))

            let create = try #require(harness.stub.requests.first { $0.method == "POST" })
            let body = try #require(try JSONSerialization.jsonObject(with: create.body) as? [String: Any])
            #expect(body["metadata"] as? [String: String] == ["organisation_id": "met", "package_id": "pack_10k"])
            #expect((body["merchant_order_data"] as? [String: String])?["reference"] == reference)

            // The client retries the mutation: same purchase, same order, nothing new at Revolut.
            let again = try Self.purchaseResult(try await harness.purchase(key: "basket-1"))
            #expect(again["orderId"] as? String == orderID)
            #expect(harness.stub.orderCount == 1)

            harness.stub.setState("completed", orderID: orderID)
            #expect(try await harness.deliver("ORDER_COMPLETED", orderID: orderID).status == 204)
            #expect(try await harness.ledger.read { try $0.balance(of: "met").available } == credits("10000"))
        }
    }

    @Test(arguments: StoreKind.available) func testRetriedPurchaseAfterACrashFindsTheOrderByReference(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            // The first attempt recorded the purchase and created the order, then died before attaching it.
            let reference = PurchaseService.reference(organisationID: "met", idempotencyKey: "basket-2")
            try await harness.ledger.write(as: .tests) { tx in
                try tx.recordPurchase(Purchase(
                    reference: reference, organisationID: "met", packageID: "pack_10k", credits: credits("10000"),
                    price: Money(minorUnits: 45_000, currency: .gbp), createdAt: WebhookCreditTests.now))
            }
            let orphan = try await harness.client.createOrder(RevolutOrderRequest(
                amount: Money(minorUnits: 45_000, currency: .gbp), description: "10,000 credits", reference: reference,
                organisationID: "met", packageID: "pack_10k"))
            let result = try Self.purchaseResult(try await harness.purchase(key: "basket-2"))
            #expect(result["orderId"] as? String == orphan.id)
            #expect(harness.stub.orderCount == 1)
            let stored = try await harness.ledger.read { try $0.purchase(reference: reference) }
            #expect(stored?.revolutOrderID == orphan.id)
        }
    }

    @Test(arguments: StoreKind.available) func testUnconfirmedCreationIsReportedAndARetryCreatesOnce(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            harness.stub.enqueue(.status(500, retryAfter: nil, afterProcessing: false), for: .create)
            for _ in 0..<3 { harness.stub.enqueue(.status(500, retryAfter: nil, afterProcessing: false), for: .list) }
            let failed = try await harness.purchase(key: "basket-3")
            #expect(failed.text.contains("did not confirm the order"), "\(failed.text)")
            #expect(harness.stub.orderCount == 0)
            let retried = try Self.purchaseResult(try await harness.purchase(key: "basket-3"))
            #expect(retried["orderId"] is String)
            #expect(harness.stub.orderCount == 1)
        }
    }

    @Test(arguments: StoreKind.available) func testPurchaseRefusals(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let foreign = try await harness.purchase(key: "k1", apiKey: ServiceHTTPTests.orgKey.key)
            #expect(foreign.text.contains(#""purchase":null,"userErrors":[{"code":"organisationNotFound","#
                + #""field":["input","organisationId"],"message":"Organisation not found."}]"#), "\(foreign.text)")
            let unknown = try await harness.purchase(package: "pack_free", key: "k2")
            #expect(unknown.text.contains(#""userErrors":[{"code":"packageNotFound","field":["input","packageId"],"#
                + #""message":"Credit package not found."}]"#), "\(unknown.text)")
            let badKey = try await harness.purchase(key: "no spaces")
            #expect(badKey.text.contains(#""userErrors":[{"code":"idempotencyKeyMalformed","#
                + #""field":["input","idempotencyKey"],"message":"idempotencyKey must be"#), "\(badKey.text)")
            _ = try Self.purchaseResult(try await harness.purchase(key: "k3"))
            let reused = try await harness.purchase(package: "pack_5k", key: "k3")
            #expect(reused.text.contains(#""code":"idempotencyKeyReusedWithDifferentContent","#
                + #""field":["input","idempotencyKey"],"message":"This idempotencyKey was already used to buy another package."#),
                "\(reused.text)")
            let notSold = try await harness.purchase(package: "pack_5k", key: "k4")
            #expect(notSold.text.contains(#""code":"packageNotSoldInCurrency","field":["input","packageId"],"#
                + #""message":"This package is not sold in GBP."#), "\(notSold.text)")
            #expect(harness.stub.orderCount == 1)
        }
    }

    @Test(arguments: StoreKind.available) func testCreditPackagesArePricedInTheOrganisationsCurrency(_ store: StoreKind) async throws {
        try await withHarness(store) { harness in
            let answer = try await harness.service.graphQL(
                LedgerBackedTests.query(
                    "{ creditPackages(organisationId: \"met\") { id credits price { minorUnits currency } } }"),
                key: ServiceHTTPTests.metKey.key)
            #expect(answer.text == #"{"data":{"creditPackages":[{"id":"pack_10k","credits":"10000","#
                + #""price":{"minorUnits":"45000","currency":"GBP"}},{"id":"pack_5k","credits":"5000","#
                + #""price":null}]}}"#)
        }
    }
}
