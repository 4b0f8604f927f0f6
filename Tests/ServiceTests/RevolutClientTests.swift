import Foundation
import Ledger
import Synchronization
import Testing

@testable import Service

/// The Merchant API client against the local stub (TESTPLAN F8).
@Suite struct RevolutClientTests {
    static let purchase = RevolutOrderRequest(
        amount: Money(minorUnits: 45_000, currency: .gbp), description: "10,000 credits",
        reference: "cpk_2026_000142", organisationID: "org_acme", packageID: "pkg_10k")

    /// Records requested waits instead of sleeping, so retry tests take milliseconds.
    final class SleepRecorder: Sendable {
        private let waits = Mutex<[Duration]>([])
        var recorded: [Duration] { waits.withLock { $0 } }
        func sleep(_ duration: Duration) async throws { waits.withLock { $0.append(duration) } }
    }

    static func client(
        _ baseURL: URL, secret: String = "sk_test_stub_secret", timeout: Duration = .seconds(30),
        sleeper: SleepRecorder = SleepRecorder(), configure: (inout RevolutClientConfiguration) -> Void = { _ in }
    ) -> RevolutClient {
        var configuration = RevolutClientConfiguration(baseURL: baseURL, secretKey: secret)
        configuration.requestTimeout = timeout
        configure(&configuration)
        return RevolutClient(configuration: configuration, logger: quietLogger("revolut"), sleep: sleeper.sleep)
    }

    @Test func testCreateOrderSendsTheDocumentedRequest() async throws {
        let stub = RevolutStub()
        try await stub.run { url in
            let order = try await Self.client(url).createOrder(Self.purchase)
            #expect(order.state == .pending)
            #expect(order.amount == Money(minorUnits: 45_000, currency: .gbp))
            #expect(order.merchantReference == "cpk_2026_000142")
            #expect(order.metadata == ["organisation_id": "org_acme", "package_id": "pkg_10k"])
            #expect(order.checkoutURL?.hasPrefix("https://checkout.stub/") == true)

            let request = try #require(stub.requests.first)
            #expect(request.method == "POST" && request.path == "/api/orders")
            #expect(request.headers["authorization"] == "Bearer sk_test_stub_secret")
            #expect(request.headers["revolut-api-version"] == "2025-12-04")
            #expect(request.headers["content-type"] == "application/json")
            let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(body["amount"] as? Int == 45_000)
            #expect(body["currency"] as? String == "GBP")
            #expect(body["description"] as? String == "10,000 credits")
            #expect((body["merchant_order_data"] as? [String: String])?["reference"] == "cpk_2026_000142")
            #expect(body["metadata"] as? [String: String] == ["organisation_id": "org_acme", "package_id": "pkg_10k"])
        }
    }

    @Test func testRetrieveAndFindByReference() async throws {
        let stub = RevolutStub()
        try await stub.run { url in
            let client = Self.client(url)
            let created = try await client.createOrder(Self.purchase)
            stub.setState("completed", orderID: created.id)
            let fetched = try await client.retrieveOrder(id: created.id)
            #expect(fetched.state == .completed && fetched.id == created.id)
            let found = try await client.findOrders(reference: "cpk_2026_000142")
            #expect(found.map(\.id) == [created.id])
            #expect(try await client.findOrders(reference: "cpk_other").isEmpty)
            let list = try #require(stub.requests.last)
            #expect(list.query == "merchant_order_data_reference=cpk_other")
            await #expect(throws: RevolutClientError.notFound) { try await client.retrieveOrder(id: "no-such-order") }
        }
    }

    @Test func testWrongSecretIsRejectedWithoutRetrying() async throws {
        let stub = RevolutStub()
        try await stub.run { url in
            let refusal = RevolutClientError.rejected(status: 401, code: "unauthenticated", message: "Invalid key")
            await #expect(throws: refusal) {
                try await Self.client(url, secret: "sk_wrong").createOrder(Self.purchase)
            }
            #expect(stub.requests.count == 1)
        }
    }

    @Test func testRateLimitHonoursRetryAfterCappedAndDoesNotLookUp() async throws {
        let stub = RevolutStub()
        let sleeper = SleepRecorder()
        stub.enqueue(.status(429, retryAfter: "2", afterProcessing: false), for: .create)
        stub.enqueue(.status(429, retryAfter: "3600", afterProcessing: false), for: .create)
        try await stub.run { url in
            let order = try await Self.client(url, sleeper: sleeper).createOrder(Self.purchase)
            #expect(order.state == .pending)
            #expect(sleeper.recorded == [.seconds(2), .seconds(30)])
            #expect(stub.requests.map(\.method) == ["POST", "POST", "POST"])
            #expect(stub.orderCount == 1)
        }
    }

    @Test func testServerErrorsAreRetriedBoundedWithBackoff() async throws {
        let stub = RevolutStub()
        let sleeper = SleepRecorder()
        for _ in 0..<3 { stub.enqueue(.status(503, retryAfter: nil, afterProcessing: false), for: .retrieve) }
        try await stub.run { url in
            await #expect(throws: RevolutClientError.serverError(status: 503)) {
                try await Self.client(url, sleeper: sleeper).retrieveOrder(id: "abc")
            }
            #expect(stub.requests.count == 3)
            #expect(sleeper.recorded == [.milliseconds(200), .milliseconds(400)])
        }
    }

    @Test func testCreateAfterA5xxThatCreatedTheOrderFindsItInsteadOfCreatingAgain() async throws {
        let stub = RevolutStub()
        stub.enqueue(.status(502, retryAfter: nil, afterProcessing: true), for: .create)
        try await stub.run { url in
            let order = try await Self.client(url).createOrder(Self.purchase)
            #expect(order.merchantReference == Self.purchase.reference)
            #expect(stub.orderCount == 1)
            #expect(stub.requests.map { "\($0.method) \($0.path)" }
                == ["POST /api/orders", "GET /api/orders", "GET /api/orders/\(order.id)"])
        }
    }

    @Test func testTimeoutAfterCreationLooksUpByReferenceAndCreatesOnce() async throws {
        let stub = RevolutStub()
        // The create answers long after the client gives up; the lookups that follow must answer within the
        // same timeout while the rest of the suite loads both cores (a 1 s timeout failed there twice).
        stub.enqueue(.slow(.seconds(8), afterProcessing: true), for: .create)
        try await stub.run { url in
            let order = try await Self.client(url, timeout: .seconds(3)).createOrder(Self.purchase)
            #expect(order.checkoutURL != nil)
            #expect(stub.orderCount == 1)
        }
    }

    @Test func testMalformedJSONOnCreateIsResolvedByLookup() async throws {
        let stub = RevolutStub()
        stub.enqueue(.malformedJSON, for: .create)
        try await stub.run { url in
            let order = try await Self.client(url).createOrder(Self.purchase)
            #expect(order.state == .pending)
            #expect(stub.orderCount == 1)
        }
    }

    @Test func testDroppedConnectionOnCreateIsResolvedByLookup() async throws {
        let stub = RevolutStub()
        stub.enqueue(.drop, for: .create)
        try await stub.run { url in
            let order = try await Self.client(url).createOrder(Self.purchase)
            #expect(order.merchantReference == Self.purchase.reference)
            #expect(stub.orderCount == 1)
        }
    }

    @Test func testUncertainCreateWithFailingLookupStopsAsOutcomeUnknown() async throws {
        let stub = RevolutStub()
        stub.enqueue(.status(500, retryAfter: nil, afterProcessing: true), for: .create)
        for _ in 0..<3 { stub.enqueue(.status(500, retryAfter: nil, afterProcessing: false), for: .list) }
        try await stub.run { url in
            await #expect(throws: RevolutClientError.outcomeUnknown(reference: Self.purchase.reference)) {
                try await Self.client(url).createOrder(Self.purchase)
            }
            #expect(stub.orderCount == 1)
        }
    }

    @Test func testMalformedJSONOnRetrieveIsATypedError() async throws {
        let stub = RevolutStub()
        stub.enqueue(.malformedJSON, for: .retrieve)
        _ = try await stub.run { url in
            await #expect(throws: RevolutClientError.malformedResponse("could not decode RevolutOrder")) {
                try await Self.client(url).retrieveOrder(id: "abc")
            }
        }
    }

    @Test func testUnreachableHostIsAConnectionFailure() async throws {
        // Port 9 (discard) on loopback is closed on the test machine: the connection is refused.
        let client = Self.client(URL(string: "http://127.0.0.1:9")!) { $0.maxAttempts = 2 }
        await #expect {
            try await client.retrieveOrder(id: "abc")
        } throws: { error in
            if case .connectionFailed = error as? RevolutClientError { return true }
            return false
        }
    }

    @Test func testConfigurationDescriptionRedactsTheSecret() {
        let configuration = RevolutClientConfiguration(baseURL: URL(string: "http://x")!, secretKey: "sk_live_SECRET")
        #expect(!configuration.description.contains("SECRET"))
        #expect(!"\(configuration)".contains("sk_live"))
    }

    @Test func testRetryDelayDoublesUpToTheCap() {
        let client = Self.client(URL(string: "http://127.0.0.1:9")!) { $0.maxBackoff = .milliseconds(700) }
        #expect(client.retryDelay(attempt: 1, retryAfter: nil) == .milliseconds(200))
        #expect(client.retryDelay(attempt: 2, retryAfter: nil) == .milliseconds(400))
        #expect(client.retryDelay(attempt: 3, retryAfter: nil) == .milliseconds(700))
        #expect(client.retryDelay(attempt: 2, retryAfter: .seconds(1)) == .seconds(1))
    }
}
