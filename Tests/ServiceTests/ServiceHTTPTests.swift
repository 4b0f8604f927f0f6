import Foundation
import Graphiti
import Ledger
import Synchronization
import Testing

@testable import Ledger
@testable import Service

/// The service over real HTTP on loopback: health, metrics, auth, limits, problem bodies, the webhook route.
@Suite struct ServiceHTTPTests {
    static let orgKey = APIKey.generate()
    static let adminKey = APIKey.generate()
    /// A key of organisation `met` (the ledger-backed tests' organisation).
    static let metKey = APIKey.generate()
    static let store = InMemoryAPIKeyStore([
        orgKey.hash: .organisation(id: "org_acme"),
        adminKey.hash: .platformAdmin,
        metKey.hash: .organisation(id: "met"),
    ])
    static let webhookSecret = "wsk_test_Cr3d1tsL3dg3rNewK3y7Qp2Zr9Xv4Mb8N"
    static let pinnedNow = Instant(millisecondsSinceEpoch: 1_767_225_630_000)

    struct Harness {
        let base: URL
        let metrics: MetricsRegistry

        func url(_ path: String) -> URL { base.appendingPathComponent(path) }

        func graphQL(_ body: String, key: String? = ServiceHTTPTests.orgKey.key) async throws -> HTTPAnswer {
            var headers = ["Content-Type": "application/json"]
            if let key { headers["Authorization"] = "Bearer \(key)" }
            return try await send("POST", url("graphql"), headers: headers, body: Data(body.utf8))
        }
    }

    /// Runs the service on an ephemeral loopback port for the duration of `body`.
    static func withService<R: Sendable>(
        configure: (inout ServiceConfiguration) -> Void = { _ in },
        graphQL: (any GraphQLResponder)? = nil,
        handler: any RevolutWebhookHandler = AcknowledgingWebhookHandler(),
        spendingRoutes: SpendingRoutes? = nil,
        holdRoutes: SpendingRoutes? = nil,
        _ body: (Harness) async throws -> R
    ) async throws -> R {
        var configuration = ServiceConfiguration()
        configuration.port = 0
        configuration.maxBodyBytes = 32 * 1024
        configuration.webhookSecrets = [webhookSecret]
        configure(&configuration)
        let metrics = MetricsRegistry()
        let dependencies = ServiceDependencies(
            keyStore: store, metrics: metrics, now: { pinnedNow }, webhookHandler: handler, graphQL: graphQL,
            spendingRoutes: spendingRoutes, holdRoutes: holdRoutes)
        return try await withLiveApplication({ onRunning in
            try CreditsServer.makeApplication(
                configuration: configuration, dependencies: dependencies, logger: quietLogger("service"),
                onServerRunning: onRunning)
        }) { port in
            try await body(Harness(base: URL(string: "http://127.0.0.1:\(port)")!, metrics: metrics))
        }
    }

    static func expectProblem(_ answer: HTTPAnswer, status: Int) throws {
        #expect(answer.status == status)
        #expect(answer.header("Content-Type") == "application/problem+json")
        let json = try answer.json()
        #expect(json["status"] as? Int == status)
        #expect(json["title"] is String)
        #expect(json["type"] is String)
        #expect(!answer.text.contains("Error("), "no Swift error dumps in problem bodies")
    }

    @Test func testHealthzAnswersWithARequestID() async throws {
        try await Self.withService { service in
            let answer = try await send("GET", service.url("healthz"))
            #expect(answer.status == 200)
            #expect(try answer.json()["status"] as? String == "ok")
            #expect(answer.header("X-Request-Id")?.isEmpty == false)
            let echoed = try await send("GET", service.url("healthz"), headers: ["X-Request-Id": "trace-123"])
            #expect(echoed.header("X-Request-Id") == "trace-123")
            let hostile = try await send("GET", service.url("healthz"), headers: ["X-Request-Id": "a b\"c"])
            #expect(hostile.header("X-Request-Id") != "a b\"c")
        }
    }

    @Test func testMetricsUsePrometheusTextFormat() async throws {
        try await Self.withService { service in
            _ = try await send("GET", service.url("healthz"))
            _ = try await send("GET", service.url("no/such/route"))
            let answer = try await send("GET", service.url("metrics"))
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = answer.text
            #expect(text.contains("# TYPE credits_http_requests_total counter"))
            #expect(text.contains(#"credits_http_requests_total{method="GET",route="/healthz",status="200"} 1"#))
            #expect(text.contains(#"credits_http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
            #expect(text.contains("# TYPE credits_http_request_duration_seconds histogram"))
            #expect(text.contains(#"credits_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 1"#))
            #expect(text.contains(#"credits_http_request_duration_seconds_count{route="/healthz"} 1"#))
            #expect(text.contains("# TYPE credits_webhook_deliveries_total counter"))
            #expect(text.contains("# TYPE credits_gate_decisions_total counter"))
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                #expect(line.split(separator: " ").count == 2, "sample line \(line)")
            }
        }
    }

    @Test func testUnknownRouteIsAProblem() async throws {
        try await Self.withService { service in
            try Self.expectProblem(try await send("GET", service.url("nope")), status: 404)
        }
    }

    @Test(arguments: [
        nil, "Bearer", "Basic dXNlcjpwYXNz", "Bearer ck_short", "Bearer sk_live_notours",
        "Bearer " + APIKey.generate().key,
    ])
    func testGraphQLWithoutAValidKeyIs401(authorization: String?) async throws {
        try await Self.withService { service in
            var headers = ["Content-Type": "application/json"]
            if let authorization { headers["Authorization"] = authorization }
            let answer = try await send(
                "POST", service.url("graphql"), headers: headers, body: Data(#"{"query":"{ health }"}"#.utf8))
            try Self.expectProblem(answer, status: 401)
            #expect(answer.header("WWW-Authenticate") == "Bearer")
        }
    }

    @Test func testGraphQLAnswersAnOrganisationAndAnAdminKey() async throws {
        try await Self.withService { service in
            for key in [Self.orgKey.key, Self.adminKey.key] {
                let answer = try await service.graphQL(#"{"query":"{ health serverTime }"}"#, key: key)
                #expect(answer.status == 200)
                #expect(answer.text == #"{"data":{"health":"ok","serverTime":"2026-01-01T00:00:30.000Z"}}"#)
            }
        }
    }

    @Test func testBodyOverTheLimitIs413() async throws {
        try await Self.withService(configure: { $0.maxBodyBytes = 1024 }) { service in
            let big = #"{"query":"{ health }","pad":""# + String(repeating: "x", count: 2048) + "\"}"
            let answer = try await service.graphQL(big)
            try Self.expectProblem(answer, status: 413)
            #expect(try answer.json()["limit"] as? Int == 1024)
            let webhook = try await send("POST", service.url("webhooks/revolut"), body: Data(big.utf8))
            try Self.expectProblem(webhook, status: 413)
        }
    }

    @Test func testWebhookRouteVerifiesBeforeAcknowledging() async throws {
        let body = Data(WebhookSignatureTests.completedBody.utf8)
        let handler = RecordingWebhookHandler()
        try await Self.withService(handler: handler) { service in
            let url = service.url("webhooks/revolut")
            let signed = [
                "Revolut-Signature": WebhookSignatureTests.t1Signature,
                "Revolut-Request-Timestamp": WebhookSignatureTests.sentAt, "Content-Type": "application/json",
            ]
            #expect(try await send("POST", url, headers: signed, body: body).status == 204)
            #expect(handler.events.map(\.orderID) == ["69559f7a-3c1e-a8d2-b4f0-9d2e71c05a13"])
            #expect(handler.events.first?.merchantOrderReference == "cpk_2026_000142")

            var tampered = signed
            tampered["Revolut-Signature"] = WebhookSignatureTests.t4Signature
            try Self.expectProblem(try await send("POST", url, headers: tampered, body: body), status: 401)
            try Self.expectProblem(try await send("POST", url, headers: [:], body: body), status: 401)

            let notAnEvent = Data(#"["not","an","event"]"#.utf8)
            var resigned = signed
            resigned["Revolut-Signature"] = WebhookSignatureTests.sign(
                Self.webhookSecret, timestamp: WebhookSignatureTests.sentAt,
                body: String(decoding: notAnEvent, as: UTF8.self))
            try Self.expectProblem(try await send("POST", url, headers: resigned, body: notAnEvent), status: 400)
            #expect(handler.events.count == 1)

            let outcomes = { (outcome: String) in
                service.metrics.counterValue(ServiceMetrics.webhookDeliveries, labels: [Label("outcome", outcome)])
            }
            #expect(outcomes("processed") == 1)
            #expect(outcomes("rejected_noMatchingSignature") == 1)
            #expect(outcomes("rejected_missingSignature") == 1)
            #expect(outcomes("malformed") == 1)
        }
    }

    @Test func testWebhookHandlerAskingForRetryGives503() async throws {
        let body = WebhookSignatureTests.completedBody
        try await Self.withService(handler: RetryLaterHandler()) { service in
            let answer = try await send(
                "POST", service.url("webhooks/revolut"),
                headers: [
                    "Revolut-Signature": WebhookSignatureTests.t1Signature,
                    "Revolut-Request-Timestamp": WebhookSignatureTests.sentAt,
                ],
                body: Data(body.utf8))
            try Self.expectProblem(answer, status: 503)
            #expect(answer.header("Retry-After") == "60")
        }
    }
}

extension ServiceHTTPTests {
    struct BusyLedgerHandler: RevolutWebhookHandler {
        func handle(_ event: RevolutWebhookEvent) async throws -> WebhookHandlingOutcome {
            throw StorageError(.busy, path: "/var/lib/credits/ledger.sqlite")
        }
    }

    @Test func testBusyLedgerIs503WithRetryAfterAndNoPath() async throws {
        try await Self.withService(handler: BusyLedgerHandler()) { service in
            let answer = try await send(
                "POST", service.url("webhooks/revolut"),
                headers: [
                    "Revolut-Signature": WebhookSignatureTests.t1Signature,
                    "Revolut-Request-Timestamp": WebhookSignatureTests.sentAt,
                ],
                body: Data(WebhookSignatureTests.completedBody.utf8))
            try Self.expectProblem(answer, status: 503)
            #expect(answer.header("Retry-After") == "1")
            #expect(!answer.text.contains("/var/lib"))
        }
    }
}

final class RecordingWebhookHandler: RevolutWebhookHandler {
    private let received = Mutex<[RevolutWebhookEvent]>([])
    var events: [RevolutWebhookEvent] { received.withLock { $0 } }

    func handle(_ event: RevolutWebhookEvent) async throws -> WebhookHandlingOutcome {
        received.withLock { $0.append(event) }
        return .processed
    }
}

struct RetryLaterHandler: RevolutWebhookHandler {
    func handle(_ event: RevolutWebhookEvent) async throws -> WebhookHandlingOutcome {
        throw WebhookRetryLater("ledger busy")
    }
}
